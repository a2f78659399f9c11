// Micro-benchmarks of distkit's hot paths, each next to the baseline it is
// judged against, in the same binary and run:
//  - LaxCounter's warm inc vs std::unordered_map<std::string,
//    std::atomic<int64_t>> find + fetch_add (target: within 2x), on 1 and 2
//    threads with a key each;
//  - LaxInstanceAwareCounter's warm inc vs the same baseline (target:
//    within 1.5x), on 1 and 2 threads with a key each;
//  - StrictCounter's inc: one blocking round trip;
//  - StrictCounter's inc_all of 1,000 keys: one script call.
// Run: REDIS_URL=redis://127.0.0.1:6379 build/bench/distkit_micro_bench
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

const distkit::RedisKey bench_prefix("distkit_micro_bench");

// The Client every benchmark shares, connected on first use; null without
// REDIS_URL.
const std::shared_ptr<distkit::Client>& shared_client() {
  static const std::shared_ptr<distkit::Client> client = []() -> std::shared_ptr<distkit::Client> {
    const char* url = std::getenv("REDIS_URL");
    if (url == nullptr || *url == '\0') return nullptr;
    return distkit::Client::connect(url);
  }();
  return client;
}

// True when the benchmark cannot run; it is then marked with the reason.
bool skipped_without_redis(benchmark::State& state) {
  if (shared_client()) return false;
  state.SkipWithError("set REDIS_URL (e.g. redis://127.0.0.1:6379) to run this benchmark");
  return true;
}

// One key per thread: threads never contend on a counter.
std::string thread_key(int thread_index) {
  return "key" + std::to_string(thread_index);
}

void BM_UnorderedMapAtomicBaseline(benchmark::State& state) {
  static std::unordered_map<std::string, std::atomic<std::int64_t>> map;
  // Setup before the loop runs on thread 0 only; Google Benchmark starts
  // every thread's loop together, after it.
  if (state.thread_index() == 0) {
    for (int t = 0; t < state.threads(); ++t) map[thread_key(t)] = 0;
  }
  const std::string key = thread_key(state.thread_index());
  for (auto _ : state) map.find(key)->second.fetch_add(1);
}
BENCHMARK(BM_UnorderedMapAtomicBaseline)->Threads(1)->Threads(2)->UseRealTime();

// A buffered counter's inc once the key is warm: no network.
template <class LaxFlavour>
void BM_WarmInc(benchmark::State& state) {
  static std::shared_ptr<LaxFlavour> counter;
  if (skipped_without_redis(state)) return;
  if (state.thread_index() == 0) {
    counter = LaxFlavour::create({bench_prefix, shared_client()});
    // The first touch of a key reads Redis; warm means after it.
    for (int t = 0; t < state.threads(); ++t) counter->inc(distkit::RedisKey(thread_key(t)), 1);
  }
  const distkit::RedisKey key(thread_key(state.thread_index()));
  for (auto _ : state) benchmark::DoNotOptimize(counter->inc(key, 1));
  if (state.thread_index() == 0) {
    counter->clear();
    counter.reset();
  }
}
BENCHMARK_TEMPLATE(BM_WarmInc, distkit::LaxCounter)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_WarmInc, distkit::LaxInstanceAwareCounter)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void BM_StrictCounterInc(benchmark::State& state) {
  if (skipped_without_redis(state)) return;
  const auto counter = distkit::StrictCounter::create({bench_prefix, shared_client()});
  const distkit::RedisKey key("strict");
  for (auto _ : state) benchmark::DoNotOptimize(counter->inc(key, 1));
  counter->clear();
}
BENCHMARK(BM_StrictCounterInc)->UseRealTime();

void BM_StrictCounterIncAll1000(benchmark::State& state) {
  if (skipped_without_redis(state)) return;
  const auto counter = distkit::StrictCounter::create({bench_prefix, shared_client()});
  std::vector<distkit::KeyCount> batch;
  for (int i = 0; i < 1000; ++i)
    batch.push_back({distkit::RedisKey("batch" + std::to_string(i)), 1});
  for (auto _ : state) benchmark::DoNotOptimize(counter->inc_all(batch));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
  counter->clear();
}
BENCHMARK(BM_StrictCounterIncAll1000)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
