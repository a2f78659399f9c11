#include "bench_cluster.hpp"

#include <chrono>
#include <distkit/distkit.hpp>
#include <vector>

#include "demo_cluster.hpp"
#include "demo_worker.hpp"
#include "in_flight.hpp"

namespace distkit::tools {
namespace {

constexpr int callers = 64;
// Runs per side, alternating, so that both sides see the same moments of a
// shared machine.
constexpr int runs = 4;

std::shared_ptr<StrictCounter> sharded_counter(const std::string& url, const RedisKey& prefix,
                                               int shards) {
  ClientOptions options;
  options.url = url;
  options.command_timeout = std::chrono::seconds(10);  // a slow moment must not fail the run
  CounterOptions counter_options(prefix, Client::connect(options));
  counter_options.shards = shards;
  return StrictCounter::create(counter_options);
}

double in_flight_seconds(StrictCounter& counter, const std::vector<RedisKey>& keys, int requests) {
  return run_in_flight(callers, requests,
                       [&](int index, Completion done) {
                         counter.async_inc(keys[static_cast<std::size_t>(index) % keys.size()], 1,
                                           [done = std::move(done)](boost::system::error_code error,
                                                                    std::int64_t) { done(error); });
                       })
      .count();
}

}  // namespace

BenchResult measure_cluster_scaling(const ClusterScalingTarget& target, int requests) {
  const int shards = static_cast<int>(target.cluster.masters().size());
  const RedisKey prefix = prefix_spread_over(target.prefix, target.cluster.masters(), shards);
  const auto over_cluster = sharded_counter(target.cluster.url(), prefix, shards);
  const auto on_one = sharded_counter(target.single_url, prefix, shards);
  const std::vector<RedisKey> keys = demo_keys(shards);
  const int per_run = requests / runs;
  double cluster_seconds = 0, single_seconds = 0;
  for (int run = 0; run < runs; ++run) {
    cluster_seconds += in_flight_seconds(*over_cluster, keys, per_run);
    single_seconds += in_flight_seconds(*on_one, keys, per_run);
  }
  over_cluster->clear();
  on_one->clear();
  const double total = static_cast<double>(per_run) * runs;
  return {"strict inc on one counter of " + std::to_string(shards) + " shards over " +
              std::to_string(shards) + " cluster masters, " + std::to_string(callers) +
              " concurrent callers",
          "ops/s",
          total / cluster_seconds,
          "the same counter (shards, keys) on one redis-server",
          total / single_seconds,
          {}};
}

}  // namespace distkit::tools
