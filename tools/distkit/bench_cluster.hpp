// The bench's Redis Cluster row: one sharded counter over the masters of a
// private cluster against the same counter on one redis-server.
#pragma once

#include <distkit/redis_key.hpp>
#include <string>

#include "bench_result.hpp"
#include "local_redis_cluster.hpp"

namespace distkit::tools {

struct ClusterScalingTarget {
  std::string single_url;  // one redis-server
  const LocalRedisCluster& cluster;
  RedisKey prefix;  // the bench's own; both counters are cleared afterwards
};

// Throughput of StrictCounter::async_inc with 64 in flight on a counter of
// as many shards as the cluster has masters, one key per shard in turn
// (demo_keys()), its shards spread so that every master holds one: over the
// cluster (redis-cluster://) against the same counter, shards and keys on
// `single_url`. Alternating runs, `requests` per side in all. No target:
// on a machine with fewer cores than masters the cluster cannot scale.
BenchResult measure_cluster_scaling(const ClusterScalingTarget& target, int requests);

}  // namespace distkit::tools
