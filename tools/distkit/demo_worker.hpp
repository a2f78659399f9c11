// One process of `distkit demo`: counts on the strict and the lax counter
// until its time is up and reports to the demo over stdout.
#pragma once

#include <distkit/client.hpp>
#include <string>

namespace distkit::tools {

struct DemoWorkerOptions {
  ClientOptions client;
  std::string prefix;
  double seconds = 3;
};

// The key every worker increments, in both counters.
inline constexpr const char* demo_key = "hits";

// Returns the process's exit code; throws what the counters throw.
int run_demo_worker(const DemoWorkerOptions& options);

}  // namespace distkit::tools
