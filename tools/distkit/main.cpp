// distkit: read and fix counters from a shell, watch them stay exact across
// processes (demo), and measure them against the alternatives (bench).
#include <CLI/CLI.hpp>
#include <iostream>

#include "bench.hpp"
#include "demo.hpp"
#include "exit_codes.hpp"
#include "global_options.hpp"
#include "instance_commands.hpp"
#include "operator_commands.hpp"

int main(int argc, char** argv) {
  using namespace distkit::tools;
  CLI::App app{"distkit: distributed int64 counters on Redis, strict and lax", "distkit"};
  app.footer(std::string(exit_codes_help));
  app.require_subcommand(1);
  // Global options may also follow the command: `distkit get k --lax`.
  app.fallthrough();

  GlobalOptions options;
  app.add_option("--url", options.url,
                 "redis://[[user]:password@]host[:port][/db]; default $REDIS_URL, else "
                 "redis://127.0.0.1:6379 (demo and bench: a private redis-server)");
  app.add_option("--prefix", options.prefix, "counter prefix: 1-255 bytes, no ':'")
      ->capture_default_str();
  app.add_flag("--lax", options.lax,
               "address the LaxCounter (<prefix>:lax_counter); with --instance-aware, a "
               "LaxInstanceAwareCounter");
  app.add_flag("--json", options.json, "print one JSON object on stdout");
  app.add_flag("--instance-aware", options.instance_aware,
               "address the StrictInstanceAwareCounter (<prefix>:instance_aware_counter)");

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
    std::cerr << "distkit: " << e.what() << " (see distkit --help)" << std::endl;
    return exit_usage;
  }
  return exit_code;
}
