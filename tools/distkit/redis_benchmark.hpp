// redis-benchmark as the bench's throughput baseline.
#pragma once

#include <string>
#include <vector>

#include "redis_endpoint.hpp"

namespace distkit::tools {

// Runs `redis-benchmark -c 1 -P <pipeline_depth> -n <requests> --csv
// <command...>` against `endpoint` and returns the requests per second it
// reports. Throws std::runtime_error with its output when it fails.
double redis_benchmark_requests_per_second(const RedisEndpoint& endpoint, int pipeline_depth,
                                           int requests, const std::vector<std::string>& command);

// The "rps" column of redis-benchmark's --csv output (a header line naming
// the columns, then one line per test); NaN when there is none.
double requests_per_second_from_csv(const std::string& csv);

}  // namespace distkit::tools
