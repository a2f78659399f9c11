// `distkit demo --instance-aware`: N worker processes each hold a slice of
// one instance-aware key; one is killed with SIGKILL midway and the
// cumulative falls back by its slice once the dead-instance threshold has
// passed.
#pragma once

#include "global_options.hpp"
#include "redis_target.hpp"

namespace CLI {
class App;
}

namespace distkit::tools {

// Runs on `target` (a URL or a private redis-server, plain or TLS).
int run_instance_demo(const GlobalOptions& options, const RedisTarget& target, int workers,
                      double seconds);

// Registers the hidden `instance-demo-worker` subcommand.
void add_instance_demo_worker(CLI::App& app, const GlobalOptions& options, int& exit_code);

}  // namespace distkit::tools
