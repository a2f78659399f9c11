// `distkit bench`: distkit against what a user would otherwise use, measured
// side by side in one run on the same Redis.
#pragma once

namespace CLI {
class App;
}

namespace distkit::tools {

// Registers `bench` on `app`.
void add_bench_command(CLI::App& app, int& exit_code);

}  // namespace distkit::tools
