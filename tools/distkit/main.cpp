// distkit: read and fix counters from a shell, see them work across
// processes (demo), and measure them (bench).
#include <CLI/CLI.hpp>
#include <iostream>

#include "bench.hpp"
#include "demo.hpp"
#include "operator_commands.hpp"
#include "output.hpp"

int main(int argc, char** argv) {
  using namespace distkit::tools;
  CLI::App app{"distkit: distributed counters on Redis (strict and lax)", "distkit"};
  app.footer(std::string(exit_codes_help));
  app.require_subcommand(1);
  // Global options may also follow the subcommand: `distkit get k --lax`.
  app.fallthrough();

  OperatorOptions options;
  app.add_option("--url", options.url,
                 "redis://[[user]:password@]host[:port][/db]; default $REDIS_URL, else "
                 "redis://127.0.0.1:6379 (demo and bench: a private redis-server)");
  app.add_option("--prefix", options.prefix, "counter prefix")->default_val("distkit");
  app.add_flag("--lax", options.lax, "use the LaxCounter (<prefix>:lax_counter) layout");
  app.add_flag("--json", options.json, "print results as JSON");

  int exit_code = exit_ok;
  add_operator_commands(app, options, exit_code);
  add_demo_commands(app, exit_code);
  add_bench_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "distkit: " << e.what() << " (see distkit --help)\n";
    return exit_usage;
  }
  return exit_code;
}
