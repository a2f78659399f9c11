// One process of `distkit demo`: counts on the strict and the lax counter
// until its time is up and reports to the demo over stdout.
#pragma once

#include <distkit/client.hpp>
#include <distkit/redis_key.hpp>
#include <string>
#include <vector>

namespace distkit::tools {

struct DemoWorkerOptions {
  ClientOptions client;
  std::string prefix;
  int shards = 1;  // CounterOptions::shards of both counters
  double seconds = 3;
};

// The keys every worker increments in turn, in both counters: "hits" for an
// unsharded counter; with `shards` > 1 one key per shard ("hits_<i>", the
// first i that falls in it), so that the counter's load reaches every shard.
std::vector<RedisKey> demo_keys(int shards);

// Returns the process's exit code; throws what the counters throw.
int run_demo_worker(const DemoWorkerOptions& options);

}  // namespace distkit::tools
