// The bench's TLS rows: what TLS costs StrictCounter::inc, against plain TCP
// to the same redis-server in the same run.
#pragma once

#include <distkit/client.hpp>
#include <distkit/redis_key.hpp>
#include <vector>

#include "bench_result.hpp"
#include "raw_redis.hpp"

namespace distkit::tools {

// `plain` and `tls` reach one redis-server, on its port and its tls-port.
struct TlsCostTarget {
  ClientOptions plain;
  ClientOptions tls;
  RedisKey prefix;  // the bench's own, cleared by the caller
};

// Rows with TLS as the measured side and plain TCP as the baseline:
// single-caller p50 and p99 latency of blocking inc (the two interleaved,
// `latency_samples` each), and throughput with 64 async_inc in flight
// (alternating runs, `throughput_requests` each side), with the Redis CPU
// per inc on each side read through `raw`.
std::vector<BenchResult> measure_tls_cost(const TlsCostTarget& target, int latency_samples,
                                          int throughput_requests, RawRedis& raw);

}  // namespace distkit::tools
