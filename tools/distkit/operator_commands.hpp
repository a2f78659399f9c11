// get, inc, dec, set, del, clear and get-all: reading and fixing counters
// from a shell.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace distkit::tools {

struct OperatorOptions {
  std::string url;  // empty: REDIS_URL, else redis://127.0.0.1:6379
  std::string prefix = "distkit";
  bool lax = false;  // use the LaxCounter layout (<prefix>:lax_counter)
  bool json = false;
};

// Registers the operator subcommands on `app`. Each sets `exit_code` when it
// runs.
void add_operator_commands(CLI::App& app, const OperatorOptions& options, int& exit_code);

}  // namespace distkit::tools
