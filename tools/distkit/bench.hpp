// `distkit bench`: distkit against what a user would otherwise use, measured
// side by side in one run on the same Redis.
#pragma once

#include "global_options.hpp"

namespace CLI {
class App;
}

namespace distkit::tools {

// Registers `bench` on `app`; when it runs, it stores its exit code in
// `exit_code`.
void add_bench_command(CLI::App& app, const GlobalOptions& options, int& exit_code);

}  // namespace distkit::tools
