// `distkit demo`: several processes counting on the same strict and lax
// counters, with live throughput and a final exactness check.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace distkit::tools {

struct DemoOptions {
  std::string url;  // empty: REDIS_URL, else a private redis-server
  int workers = 4;
  double seconds = 3;
};

// Registers `demo` and its hidden worker subcommand on `app`.
void add_demo_commands(CLI::App& app, int& exit_code);

}  // namespace distkit::tools
