// The cluster side of `distkit demo --cluster`: a prefix whose shards reach
// every master of the private cluster, and each master's load.
#pragma once

#include <cstdint>
#include <distkit/redis_key.hpp>
#include <string>
#include <vector>

#include "global_options.hpp"
#include "local_redis_cluster.hpp"
#include "redis_target.hpp"

namespace distkit::tools {

// `base` followed by "_<n>", the first n that puts a shard of a strict
// counter of `shards` shards on every one of `masters`; `base` itself when
// there are fewer shards than masters (or no n below 1000 does it).
RedisKey prefix_spread_over(const RedisKey& base, const std::vector<ClusterMaster>& masters,
                            int shards);

// The demo's prefix: `--prefix` followed by "_demo_<pid>", on a cluster
// spread over its masters by prefix_spread_over(). Throws ToolError for a
// bad --prefix.
RedisKey demo_prefix(const GlobalOptions& global, const RedisTarget& target, int shards);

// Commands each master of `cluster` processed so far, by INFO stats
// total_commands_processed, in the order of cluster.masters().
std::vector<std::int64_t> commands_processed(const LocalRedisCluster& cluster);

struct MasterLoad {
  std::uint16_t port;
  std::size_t strict_shards;  // how many of the strict counter's shards it holds
  std::int64_t commands;      // processed since `before` was sampled
};

// Each master's load since commands_processed() returned `before`.
std::vector<MasterLoad> master_loads(const LocalRedisCluster& cluster, const RedisKey& prefix,
                                     int shards, const std::vector<std::int64_t>& before);

// A table of the loads, and the line that explains it, on stdout.
void print_master_loads(const std::vector<MasterLoad>& loads, int shards, double seconds);
// The loads as a JSON array.
std::string master_loads_json(const std::vector<MasterLoad>& loads, double seconds);

}  // namespace distkit::tools
