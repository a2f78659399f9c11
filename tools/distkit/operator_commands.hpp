// get, inc, dec, set, del, clear and get-all: reading and fixing counters
// from a shell, on the same Redis layout the library uses.
#pragma once

#include "global_options.hpp"

namespace CLI {
class App;
}

namespace distkit::tools {

// Registers the operator subcommands on `app`; the one that runs stores its
// exit code in `exit_code`.
void add_operator_commands(CLI::App& app, const GlobalOptions& options, int& exit_code);

}  // namespace distkit::tools
