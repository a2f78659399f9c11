// `distkit demo`: several processes counting on the same strict and lax
// counters, with live throughput and a final exactness check.
#pragma once

#include "global_options.hpp"

namespace CLI {
class App;
}

namespace distkit::tools {

// Registers `demo` and its hidden worker subcommand on `app`; when one runs,
// it stores its exit code in `exit_code`.
void add_demo_commands(CLI::App& app, const GlobalOptions& options, int& exit_code);

}  // namespace distkit::tools
