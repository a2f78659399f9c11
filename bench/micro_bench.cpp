// Micro-benchmarks of distkit's hot paths, each next to the baseline it is
// judged against, in the same binary and run:
//  - LaxCounter's warm inc vs std::unordered_map<std::string,
//    std::atomic<int64_t>> find + fetch_add (target: within 2x), on 1 and 2
//    threads with a key each;
//  - LaxInstanceAwareCounter's warm inc vs the same baseline (target:
//    within 1.5x), on 1 and 2 threads with a key each;
//  - StrictCounter's inc: one blocking round trip (one HINCRBY);
//  - StrictCounter's inc_if whose comparator matches: one blocking round
//    trip (one script call running one HINCRBY);
//  - StrictCounter's inc_all of 1,000 keys: one script call;
//  - LaxCounter's flush of 100,000 dirty keys vs the same 100,000 plain
//    HINCRBY pipelined on one raw hiredis connection (target: <= 0.6x);
//  - LaxCounter's resident memory for 1,000,000 keys touched once (a
//    counter, reported with the resident size before and after).
// The ratios against what a user would run instead (redis-benchmark, raw
// hiredis, the reference crate's per-key script) are `distkit bench`'s.
// Run: REDIS_URL=redis://127.0.0.1:6379 build/bench/distkit_micro_bench
#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <fstream>
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

void BM_StrictCounterIncIf(benchmark::State& state) {
  if (skipped_without_redis(state)) return;
  const auto counter = distkit::StrictCounter::create({bench_prefix, shared_client()});
  const distkit::RedisKey key("strict_if");
  for (auto _ : state) {
    benchmark::DoNotOptimize(counter->inc_if(key, distkit::CounterComparator::ge(0), 1));
  }
  counter->clear();
}
BENCHMARK(BM_StrictCounterIncIf)->UseRealTime();

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

constexpr int flush_keys = 100000;

// The baseline a user would run instead: 100,000 HINCRBY pipelined on one
// raw hiredis connection, all written before the replies are read.
void BM_PipelinedHincrby100k(benchmark::State& state) {
  if (skipped_without_redis(state)) return;
  redisContext* redis = redisConnect(
      "127.0.0.1",
      std::atoi(std::getenv("BENCH_REDIS_PORT") ? std::getenv("BENCH_REDIS_PORT") : "6379"));
  if (redis == nullptr || redis->err) return state.SkipWithError("set BENCH_REDIS_PORT");
  std::vector<std::string> fields;
  for (int i = 0; i < flush_keys; ++i) fields.push_back("f" + std::to_string(i));
  for (auto _ : state) {
    for (const std::string& field : fields) {
      redisAppendCommand(redis, "HINCRBY distkit_micro_bench:plain %s 1", field.c_str());
    }
    for (int i = 0; i < flush_keys; ++i) {
      void* reply = nullptr;
      redisGetReply(redis, &reply);
      freeReplyObject(reply);
    }
  }
  freeReplyObject(redisCommand(redis, "DEL distkit_micro_bench:plain"));
  redisFree(redis);
  state.SetItemsProcessed(state.iterations() * flush_keys);
}
BENCHMARK(BM_PipelinedHincrby100k)->UseRealTime()->Unit(benchmark::kMillisecond);

// One flush of 100,000 dirty warm keys (increments before it not timed).
void BM_LaxFlush100k(benchmark::State& state) {
  if (skipped_without_redis(state)) return;
  distkit::CounterOptions options(bench_prefix, shared_client());
  options.allowed_lag = std::chrono::hours(1);  // only explicit flushes
  auto counter = distkit::LaxCounter::create(options);
  std::vector<distkit::RedisKey> keys;
  for (int i = 0; i < flush_keys; ++i) keys.emplace_back("f" + std::to_string(i));
  for (int first = 0; first < flush_keys; first += 10000) {
    counter->get_all(std::span<const distkit::RedisKey>(keys).subspan(first, 10000));
  }
  for (auto _ : state) {
    state.PauseTiming();
    for (const auto& key : keys) counter->inc(key, 1);
    state.ResumeTiming();
    counter->flush();
  }
  state.SetItemsProcessed(state.iterations() * flush_keys);
  counter->clear();
}
BENCHMARK(BM_LaxFlush100k)->UseRealTime()->Unit(benchmark::kMillisecond);

long resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// 1,000,000 keys of about 10 bytes touched once each: resident KiB before
// and after, and bytes per key.
void BM_LaxMemoryMillionKeys(benchmark::State& state) {
  if (skipped_without_redis(state)) return;
  constexpr int keys = 1000000;
  for (auto _ : state) {
    const long before = resident_kib();
    distkit::CounterOptions options(distkit::RedisKey("distkit_micro_bench_memory"),
                                    shared_client());
    auto counter = distkit::LaxCounter::create(options);
    std::vector<distkit::RedisKey> batch;
    for (int i = 0; i < keys; ++i) {
      batch.emplace_back("key" + std::to_string(i));
      if (batch.size() == 10000) {
        counter->get_all(batch);
        batch.clear();
      }
    }
    const long peak = resident_kib();
    state.counters["resident_kib_before"] = static_cast<double>(before);
    state.counters["resident_kib_with_keys"] = static_cast<double>(peak);
    state.counters["bytes_per_key"] = (peak - before) * 1024.0 / keys;
    counter.reset();
  }
}
BENCHMARK(BM_LaxMemoryMillionKeys)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
