// distkit: read and fix counters from a shell, watch them stay exact across
// processes (demo), and measure them against the alternatives (bench).
#include <CLI/CLI.hpp>
#include <iostream>

#include "bench.hpp"
#include "command_inputs.hpp"
#include "demo.hpp"
#include "exit_codes.hpp"
#include "global_options.hpp"
#include "instance_commands.hpp"
#include "operator_commands.hpp"

namespace {

// CLI11's message, except that a word where the command belongs is named: an
// unknown command would otherwise read "A subcommand is required".
std::string usage_error(const CLI::App& app, const CLI::ParseError& error) {
  if (app.get_subcommands().empty()) {
    for (const std::string& word : app.remaining()) {
      if (word.starts_with('-')) continue;
      std::string commands;
      for (const CLI::App* command :
           app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); })) {
        commands += (commands.empty() ? "" : ", ") + command->get_name();
      }
      return "unknown command " + distkit::tools::quoted_bytes(word) + " (commands: " + commands +
             ")";
    }
  }
  return std::string(error.what()) + " (see distkit --help)";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace distkit::tools;
  CLI::App app{"distkit: distributed int64 counters on Redis, strict and lax", "distkit"};
  app.footer(std::string(exit_codes_help));
  app.require_subcommand(1);
  // Global options may also follow the command: `distkit get k --lax`.
  app.fallthrough();

  GlobalOptions options;
  app.add_option("--url", options.url,
                 "redis://, rediss://, unix://, redis-sentinel:// or redis-cluster:// URL (see "
                 "README); default "
                 "$REDIS_URL, else redis://127.0.0.1:6379 (demo and bench: a private "
                 "redis-server)");
  app.add_option("--prefix", options.prefix, "counter prefix: 1-255 bytes, no ':'")
      ->capture_default_str();
  app.add_flag("--lax", options.lax,
               "address the LaxCounter (<prefix>:lax_counter); with --instance-aware and "
               "instances, the LaxInstanceAwareCounter (<prefix>:lax_instance_aware_counter)");
  app.add_option("--shards", options.shards,
                 "the counter's shards (CounterOptions::shards): its keys spread over N hashes "
                 "{<prefix>:<kind>:<i>}; must match what the counter's owners use (not with "
                 "--instance-aware)")
      ->check(canonical_int64(1, max_shards))
      ->type_name("N")
      ->capture_default_str();
  app.add_flag("--json", options.json, "print one JSON object on stdout");
  app.add_flag("--instance-aware", options.instance_aware,
               "address the StrictInstanceAwareCounter (<prefix>:instance_aware_counter)");
  app.add_option("--tls-ca", options.tls.ca_file,
                 "rediss: PEM CA bundle to verify Redis with (default: the system's CAs)");
  app.add_option("--tls-cert", options.tls.cert_file, "rediss: client certificate (mutual TLS)");
  app.add_option("--tls-key", options.tls.key_file, "rediss: the client certificate's key");
  app.add_flag(
      "--tls-insecure", [&options](std::int64_t) { options.tls.verify_peer = false; },
      "rediss: do not verify the server's certificate (tests only)");

  int exit_code = exit_ok;
  add_operator_commands(app, options, exit_code);
  add_demo_commands(app, options, exit_code);
  add_bench_command(app, options, exit_code);
  add_instance_commands(app, options, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help
  } catch (const CLI::ParseError& e) {
    print_failure(usage_error(app, e));
    return exit_usage;
  }
  return exit_code;
}
