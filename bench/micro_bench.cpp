// Hot-path micro-benchmarks. Run:
//   REDIS_URL=redis://127.0.0.1:6379 build/bench/distkit_micro_bench
// LaxCounter's warm inc is measured next to the baseline it must stay
// within 2x of: std::unordered_map<std::string, std::atomic<int64_t>>
// find + fetch_add on the same key, in the same run.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <string>
#include <unordered_map>

namespace {

std::shared_ptr<distkit::Client> shared_client() {
  static const std::shared_ptr<distkit::Client> client = [] {
    const char* url = std::getenv("REDIS_URL");
    return url != nullptr ? distkit::Client::connect(url) : nullptr;
  }();
  return client;
}

const distkit::RedisKey prefix("distkit_micro_bench");

// One key per benchmark thread, so threads do not share a cache line.
distkit::RedisKey thread_key(const benchmark::State& state) {
  return distkit::RedisKey("key" + std::to_string(state.thread_index()));
}

void BM_UnorderedMapAtomicBaseline(benchmark::State& state) {
  static std::unordered_map<std::string, std::atomic<std::int64_t>> map;
  if (state.thread_index() == 0) {
    for (int t = 0; t < state.threads(); ++t) map["key" + std::to_string(t)];
  }
  const std::string key = thread_key(state).str();
  for (auto _ : state) {
    map.find(key)->second.fetch_add(1, std::memory_order_relaxed);
  }
}
BENCHMARK(BM_UnorderedMapAtomicBaseline)->Threads(1)->Threads(2)->UseRealTime();

void BM_LaxCounterWarmInc(benchmark::State& state) {
  static std::shared_ptr<distkit::LaxCounter> counter;
  if (!shared_client()) return state.SkipWithError("set REDIS_URL");
  if (state.thread_index() == 0) {
    distkit::CounterOptions options(prefix, shared_client());
    options.allowed_lag = std::chrono::hours(1);
    counter = distkit::LaxCounter::create(options);
    for (int t = 0; t < state.threads(); ++t) {
      counter->inc(distkit::RedisKey("key" + std::to_string(t)), 0);
    }
  }
  const distkit::RedisKey key = thread_key(state);
  for (auto _ : state) benchmark::DoNotOptimize(counter->inc(key, 1));
  if (state.thread_index() == 0) {
    counter->clear();
    counter.reset();
  }
}
BENCHMARK(BM_LaxCounterWarmInc)->Threads(1)->Threads(2)->UseRealTime();

void BM_StrictCounterInc(benchmark::State& state) {
  if (!shared_client()) return state.SkipWithError("set REDIS_URL");
  auto counter = distkit::StrictCounter::create({prefix, shared_client()});
  const distkit::RedisKey key("strict");
  for (auto _ : state) benchmark::DoNotOptimize(counter->inc(key, 1));
  counter->clear();
}
BENCHMARK(BM_StrictCounterInc)->UseRealTime();

void BM_StrictCounterIncAll1000(benchmark::State& state) {
  if (!shared_client()) return state.SkipWithError("set REDIS_URL");
  auto counter = distkit::StrictCounter::create({prefix, shared_client()});
  std::vector<distkit::KeyCount> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back({distkit::RedisKey("b" + std::to_string(i)), 1});
  for (auto _ : state) benchmark::DoNotOptimize(counter->inc_all(batch));
  state.SetItemsProcessed(state.iterations() * 1000);
  counter->clear();
}
BENCHMARK(BM_StrictCounterIncAll1000)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
