// What `distkit bench` measures: distkit and its baseline side by side, on
// the same Redis, in one run.
#pragma once

#include <distkit/client.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench_result.hpp"
#include "local_redis_cluster.hpp"

namespace distkit::tools {

// How much work each measurement does.
struct BenchSizes {
  int latency_samples;      // single-caller round trips per side
  int throughput_requests;  // per concurrency level and side
  int batch_rounds;         // inc_all rounds per side (median reported)
  int lax_increments;       // per thread and run
  int lax_runs;             // alternating runs per side (best reported)
  int flush_keys;
  int flush_rounds;  // median reported
  int memory_keys;

  // --quick stays under a minute on a two-core machine.
  static BenchSizes for_run(bool quick);
};

struct BenchTarget {
  std::string url;
  std::string prefix;  // a prefix of the bench's own, cleared afterwards
  // The same Redis over TLS, for the TLS rows (bench_tls.hpp); none: no
  // TLS rows.
  std::optional<ClientOptions> tls = std::nullopt;
  // A private Redis Cluster for the cluster row (bench_cluster.hpp); null:
  // no cluster row.
  const LocalRedisCluster* cluster = nullptr;
};

// Told the name of each measurement as it starts, and `done == total` at
// the end.
using BenchProgress = std::function<void(int done, int total, const std::string& running)>;

// The name of the cluster step, so that a caller can tell before starting a
// cluster whether `only` selects it.
inline constexpr std::string_view cluster_step_name = "one sharded counter over cluster masters";

// Whether the step called `step` runs under the filter `only` (empty: every
// step; else the steps whose name contains it).
bool bench_step_selected(std::string_view step, std::string_view only);

// Runs the steps `only` selects (bench_step_selected).
std::vector<BenchResult> run_bench_measurements(const BenchTarget& target, const BenchSizes& sizes,
                                                std::string_view only,
                                                const BenchProgress& progress);

}  // namespace distkit::tools
