#include "bench_tls.hpp"

#include <chrono>
#include <distkit/distkit.hpp>
#include <tuple>

#include "in_flight.hpp"
#include "latency_samples.hpp"
#include "redis_cpu.hpp"

namespace distkit::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int tls_callers = 64;
// Runs per side of the throughput comparison, alternating, so that both
// sides see the same moments of a shared machine.
constexpr int throughput_runs = 4;

std::shared_ptr<StrictCounter> counter_over(ClientOptions options, const RedisKey& prefix) {
  options.command_timeout = std::chrono::seconds(10);  // a slow moment must not fail the run
  return StrictCounter::create({prefix, Client::connect(options)});
}

// Wall seconds and Redis CPU microseconds of `requests` async_inc with
// tls_callers in flight.
struct InFlightCost {
  double seconds = 0;
  double redis_cpu_micros = 0;
};

void add_in_flight_run(StrictCounter& counter, const RedisKey& key, int requests, RawRedis& raw,
                       InFlightCost& total) {
  double seconds = 0;
  const double cpu = redis_cpu_micros_per_op(raw, 1, [&] {
    seconds = run_in_flight(tls_callers, requests, [&](int, Completion done) {
                counter.async_inc(key, 1,
                                  [done = std::move(done)](boost::system::error_code error,
                                                           std::int64_t) { done(error); });
              }).count();
  });
  total.seconds += seconds;
  total.redis_cpu_micros += cpu;
}

}  // namespace

std::vector<BenchResult> measure_tls_cost(const TlsCostTarget& target, int latency_samples,
                                          int throughput_requests, RawRedis& raw) {
  const auto plain = counter_over(target.plain, target.prefix);
  const auto tls = counter_over(target.tls, target.prefix);
  const RedisKey plain_key("tls_baseline"), tls_key("tls");
  std::vector<BenchResult> results;

  constexpr int warm_up = 200;
  for (int i = 0; i < warm_up; ++i) {
    tls->inc(tls_key, 1);
    plain->inc(plain_key, 1);
  }
  const auto samples = static_cast<std::size_t>(latency_samples);
  LatencySamples tls_latency(samples), plain_latency(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    const auto before_tls = Clock::now();
    tls->inc(tls_key, 1);
    const auto before_plain = Clock::now();
    plain->inc(plain_key, 1);
    const auto after = Clock::now();
    tls_latency.record(before_plain - before_tls);
    plain_latency.record(after - before_plain);
  }
  for (const auto& [name, fraction] : {std::tuple{"p50", 0.50}, std::tuple{"p99", 0.99}}) {
    const auto micros = [fraction](LatencySamples& latencies) {
      return std::chrono::duration<double, std::micro>(latencies.percentile(fraction)).count();
    };
    results.push_back({"strict inc over TLS, 1 caller: " + std::string(name) + " latency",
                       "us",
                       micros(tls_latency),
                       "the same inc over plain TCP, same Redis",
                       micros(plain_latency),
                       {}});
  }

  InFlightCost tls_cost, plain_cost;
  const int per_run = throughput_requests / throughput_runs;
  for (int run = 0; run < throughput_runs; ++run) {
    add_in_flight_run(*tls, tls_key, per_run, raw, tls_cost);
    add_in_flight_run(*plain, plain_key, per_run, raw, plain_cost);
  }
  const double requests = static_cast<double>(per_run) * throughput_runs;
  BenchResult throughput{
      "strict inc over TLS, " + std::to_string(tls_callers) + " concurrent callers",
      "ops/s",
      requests / tls_cost.seconds,
      "the same async_inc over plain TCP, same Redis",
      requests / plain_cost.seconds,
      {}};
  throughput.distkit_redis_cpu_us = tls_cost.redis_cpu_micros / requests;
  throughput.baseline_redis_cpu_us = plain_cost.redis_cpu_micros / requests;
  results.push_back(throughput);
  return results;
}

}  // namespace distkit::tools
