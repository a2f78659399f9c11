// The CPU time the Redis server spends, from INFO cpu: the bench's measure
// of what an operation costs the one resource a fleet shares.
#pragma once

#include "raw_redis.hpp"

namespace distkit::tools {

// CPU seconds (user + system) of the server's main thread, where commands
// and scripts run; the whole process's on a Redis too old to report it.
// Microsecond resolution (getrusage).
double redis_cpu_seconds(RawRedis& redis);

// Microseconds of Redis CPU per operation while `run` performs
// `operations`; the INFO queries happen outside it.
template <class Run>
double redis_cpu_micros_per_op(RawRedis& redis, double operations, Run&& run) {
  const double before = redis_cpu_seconds(redis);
  run();
  return (redis_cpu_seconds(redis) - before) * 1e6 / operations;
}

}  // namespace distkit::tools
