#include "bench_measurements.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <distkit/distkit.hpp>
#include <fstream>
#include <latch>
#include <limits>
#include <thread>
#include <unordered_map>

#include "in_flight.hpp"
#include "latency_samples.hpp"
#include "number_format.hpp"
#include "raw_redis.hpp"
#include "redis_benchmark.hpp"
#include "script_stats.hpp"

namespace distkit::tools {
namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::duration<double, std::milli>;

// The baselines' StrictCounter::inc: one script call that increments one
// hash field and returns the new value. Written here rather than borrowed
// from the library, so the baselines show what a hand-rolled counter costs.
constexpr std::string_view baseline_inc_script =
    "return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])";
constexpr int batch_keys = 1000;
constexpr int concurrency_levels[] = {1, 4, 16, 64, 256};
constexpr int memory_chunk = 10'000;
// Memory keys are "m" + 9 digits, 10 bytes: short enough for std::string's
// inline buffer, as most counter keys are.
constexpr std::size_t memory_key_length = 10;
// No background flush during a measurement that flushes by itself.
constexpr std::chrono::hours no_background_flush{1};

// "m000000042" for 42.
std::string memory_key(int index) {
  const std::string digits = std::to_string(index);
  return "m" + std::string(memory_key_length - 1 - digits.size(), '0') + digits;
}

std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t total_pages = 0, resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Wall time, and what Redis reports spending in scripts meanwhile, of
// repeated rounds of one operation.
struct Costs {
  std::vector<double> wall_ms;
  std::vector<double> redis_ms;
  std::vector<double> script_calls;

  void add(const std::pair<Milliseconds, ScriptStats>& round) {
    wall_ms.push_back(round.first.count());
    redis_ms.push_back(static_cast<double>(round.second.micros) / 1000);
    script_calls.push_back(static_cast<double>(round.second.calls));
  }
};

// "stem0", "stem1", ... each with `count`.
std::vector<KeyCount> numbered_keys(const std::string& stem, int number, std::int64_t count) {
  std::vector<KeyCount> keys;
  keys.reserve(static_cast<std::size_t>(number));
  for (int i = 0; i < number; ++i) {
    keys.push_back({RedisKey(stem + std::to_string(i)), count});
  }
  return keys;
}

// Runs body(thread_index, ops) on `threads` threads released together and
// returns the wall time per op of one thread, in nanoseconds.
template <class Body>
double ns_per_op_on_threads(int threads, int ops, const Body& body) {
  std::latch ready(threads);
  std::latch start(1);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.count_down();
      start.wait();
      body(t, ops);
    });
  }
  ready.wait();
  const auto began = Clock::now();
  start.count_down();
  for (std::thread& worker : workers) worker.join();
  return std::chrono::duration<double, std::nano>(Clock::now() - began).count() / ops;
}

class BenchRun {
 public:
  BenchRun(const BenchTarget& target, const BenchSizes& sizes)
      : sizes_(sizes),
        endpoint_(RedisEndpoint::parse(target.url)),
        prefix_(target.prefix),
        strict_hash_(target.prefix + ":strict_counter"),
        client_(Client::connect(target.url)),
        strict_(StrictCounter::create({prefix_, client_})),
        raw_(endpoint_),
        baseline_sha_(raw_.query({"SCRIPT", "LOAD", std::string(baseline_inc_script)})) {}

  // The bench's keys are its own; leave nothing behind, even after a failure.
  ~BenchRun() {
    try {
      strict_->clear();
      LaxCounter::create({prefix_, client_})->clear();
    } catch (const std::exception&) {
      // Redis is gone; so are the keys, or there is nothing more to do.
    }
  }
  BenchRun(const BenchRun&) = delete;
  BenchRun& operator=(const BenchRun&) = delete;

  std::vector<BenchResult> run(const BenchProgress& progress) {
    std::vector<std::pair<std::string, std::function<void()>>> steps;
    // Memory first: later steps leave freed heap behind that new keys would
    // reuse without growing the resident set.
    steps.emplace_back("lax memory, " + with_thousands(sizes_.memory_keys) + " keys",
                       [this] { measure_lax_memory(); });
    steps.emplace_back("strict latency, 1 caller", [this] { measure_strict_latency(); });
    for (const int callers : concurrency_levels) {
      steps.emplace_back("strict throughput, " + std::to_string(callers) + " callers",
                         [this, callers] { measure_strict_throughput(callers); });
    }
    steps.emplace_back("inc_all of 1,000 keys", [this] { measure_inc_all(); });
    for (const int threads : {1, 2}) {
      steps.emplace_back("lax warm inc, " + std::to_string(threads) + " thread(s)",
                         [this, threads] { measure_lax_warm_inc(threads); });
    }
    steps.emplace_back("lax flush of " + with_thousands(sizes_.flush_keys) + " keys",
                       [this] { measure_lax_flush(); });

    const int total = static_cast<int>(steps.size());
    for (int done = 0; done < total; ++done) {
      progress(done, total, steps[static_cast<std::size_t>(done)].first);
      steps[static_cast<std::size_t>(done)].second();
    }
    progress(total, total, "done");
    return std::move(results_);
  }

 private:
  std::shared_ptr<LaxCounter> lax_counter(std::chrono::milliseconds allowed_lag) {
    CounterOptions options(prefix_, client_);
    options.allowed_lag = allowed_lag;
    return LaxCounter::create(options);
  }

  // The wall time of `call`, and the script calls Redis counted during it.
  // The statistics are read outside the timed part.
  std::pair<Milliseconds, ScriptStats> measure_cost(const std::function<void()>& call) {
    const ScriptStats before = ScriptStats::query(raw_);
    const auto began = Clock::now();
    call();
    const Milliseconds wall = Clock::now() - began;
    return {wall, ScriptStats::query(raw_) - before};
  }

  // Argument list of the baseline script incrementing `field` by 1.
  std::vector<std::string> baseline_inc(const std::string& field) const {
    return {"EVALSHA", baseline_sha_, "1", strict_hash_, field, "1"};
  }

  void measure_lax_memory() {
    malloc_trim(0);
    const std::int64_t resident_before = resident_bytes();
    const std::size_t heap_before = mallinfo2().uordblks;
    auto lax = lax_counter(no_background_flush);
    for (int first = 0; first < sizes_.memory_keys; first += memory_chunk) {
      std::vector<KeyCount> chunk;
      chunk.reserve(memory_chunk);
      for (int i = first; i < std::min(first + memory_chunk, sizes_.memory_keys); ++i) {
        chunk.push_back({RedisKey(memory_key(i)), 1});
      }
      lax->inc_all(chunk);
    }
    const double keys = sizes_.memory_keys;
    const double resident = static_cast<double>(resident_bytes() - resident_before) / keys;
    const double heap = static_cast<double>(mallinfo2().uordblks - heap_before) / keys;
    const std::string what = "lax memory, " + with_thousands(sizes_.memory_keys) + " keys of " +
                             std::to_string(memory_key_length) + " bytes: ";
    results_.push_back(
        {what + "resident (RSS delta)",
         "bytes/key",
         resident,
         "",
         std::nullopt,
         {Target::Kind::value_at_most, 150 + memory_key_length, "(150 + key length)"}});
    results_.push_back({what + "heap in use", "bytes/key", heap, "", std::nullopt, {}});
    lax->clear();
  }

  void measure_strict_latency() {
    const RedisKey key("latency");
    const PreparedCommand baseline(baseline_inc("baseline_latency"));
    constexpr int warm_up = 200;
    for (int i = 0; i < warm_up; ++i) {
      strict_->inc(key, 1);
      raw_.execute(baseline);
    }
    const auto samples = static_cast<std::size_t>(sizes_.latency_samples);
    LatencySamples distkit(samples), hiredis(samples);
    // Interleaved, so that both sides see the same machine.
    for (std::size_t i = 0; i < samples; ++i) {
      const auto before_distkit = Clock::now();
      strict_->inc(key, 1);
      const auto before_hiredis = Clock::now();
      raw_.execute(baseline);
      const auto after = Clock::now();
      distkit.record(before_hiredis - before_distkit);
      hiredis.record(after - before_hiredis);
    }
    for (const auto& [name, fraction] : {std::pair{"p50", 0.50}, std::pair{"p99", 0.99}}) {
      const auto micros = [fraction](LatencySamples& latencies) {
        return std::chrono::duration<double, std::micro>(latencies.percentile(fraction)).count();
      };
      const bool is_median = fraction == 0.50;
      results_.push_back({"strict inc, 1 caller: " + std::string(name) + " latency", "us",
                          micros(distkit), "hiredis blocking EVALSHA", micros(hiredis),
                          is_median ? Target{Target::Kind::ratio_at_most, 1.15, ""} : Target{}});
    }
  }

  void measure_strict_throughput(int callers) {
    const RedisKey key("throughput");
    const int requests = sizes_.throughput_requests;
    const ScriptStats before_distkit = ScriptStats::query(raw_);
    const auto elapsed = run_in_flight(callers, requests, [&](int, Completion done) {
      strict_->async_inc(
          key, 1,
          [done = std::move(done)](boost::system::error_code error, std::int64_t) { done(error); });
    });
    const ScriptStats before_baseline = ScriptStats::query(raw_);
    const double baseline = redis_benchmark_requests_per_second(
        endpoint_, callers, requests, baseline_inc("baseline_throughput"));
    const ScriptStats after_baseline = ScriptStats::query(raw_);

    const bool target_level = callers == 64;
    const std::string what =
        "strict inc, " +
        (callers == 1 ? "1 caller" : std::to_string(callers) + " concurrent callers");
    results_.push_back({what, "ops/s", requests / elapsed.count(),
                        "redis-benchmark -c 1 -P " + std::to_string(callers), baseline,
                        target_level ? Target{Target::Kind::ratio_at_least, 0.7, ""} : Target{},
                        callers});
    if (target_level) {
      // Where the time goes: each side has Redis run one script per
      // increment, and the server's time per call bounds the throughput.
      results_.push_back({what + ": Redis time per script call",
                          "us",
                          (before_baseline - before_distkit).micros_per_call(),
                          "the one-line HINCRBY script",
                          (after_baseline - before_baseline).micros_per_call(),
                          {}});
    }
  }

  void measure_inc_all() {
    const std::vector<KeyCount> batch = numbered_keys("batch", batch_keys, 1);
    std::vector<PreparedCommand> hiredis_batch;
    for (int i = 0; i < batch_keys; ++i) {
      hiredis_batch.emplace_back(baseline_inc("baseline_batch" + std::to_string(i)));
    }
    const auto one_call = [&] { strict_->inc_all(batch); };
    const auto per_key_calls = [&] {
      run_in_flight(batch_keys, batch_keys, [&](int index, Completion done) {
        const KeyCount& entry = batch[static_cast<std::size_t>(index)];
        strict_->async_inc(entry.key, entry.count,
                           [done = std::move(done)](boost::system::error_code error, std::int64_t) {
                             done(error);
                           });
      });
    };
    const auto hiredis_pipeline = [&] { raw_.execute_pipelined(hiredis_batch); };

    one_call();  // warm-up: the keys exist and the scripts are loaded
    per_key_calls();
    hiredis_pipeline();
    Costs one_call_costs, per_key_costs, hiredis_costs;
    for (int round = 0; round < sizes_.batch_rounds; ++round) {
      one_call_costs.add(measure_cost(one_call));
      per_key_costs.add(measure_cost(per_key_calls));
      hiredis_costs.add(measure_cost(hiredis_pipeline));
    }
    const std::string what = "strict inc_all of 1,000 keys, one call";
    const std::string per_key = "1,000 async_inc in flight, one Client";
    results_.push_back({what,
                        "ms",
                        median(one_call_costs.wall_ms),
                        per_key,
                        median(per_key_costs.wall_ms),
                        {Target::Kind::ratio_at_most, 0.2, "(5x faster)"}});
    results_.push_back({what,
                        "ms",
                        median(one_call_costs.wall_ms),
                        "1,000 hiredis EVALSHA, pipelined",
                        median(hiredis_costs.wall_ms),
                        {}});
    // How much of each is Redis running the scripts.
    results_.push_back({what + ": Redis time in scripts",
                        "ms",
                        median(one_call_costs.redis_ms),
                        per_key,
                        median(per_key_costs.redis_ms),
                        {}});
  }

  void measure_lax_warm_inc(int threads) {
    auto lax = LaxCounter::create({prefix_, client_});  // the default allowed_lag
    std::vector<RedisKey> keys;
    std::unordered_map<std::string, std::atomic<std::int64_t>> baseline_map;
    for (int t = 0; t < threads; ++t) {
      keys.emplace_back("warm" + std::to_string(t));
      lax->inc(keys.back(), 1);  // the first touch reads Redis; warm means after it
      baseline_map[keys.back().str()] = 1;
    }
    const auto distkit_run = [&](int thread, int ops) {
      const RedisKey key = keys[static_cast<std::size_t>(thread)];
      for (int i = 0; i < ops; ++i) lax->inc(key, 1);
    };
    const auto baseline_run = [&](int thread, int ops) {
      const std::string key = keys[static_cast<std::size_t>(thread)].str();
      for (int i = 0; i < ops; ++i) baseline_map.find(key)->second.fetch_add(1);
    };
    // Best of alternating runs: a short run is easily disturbed on a shared
    // machine, and both sides get the same chances.
    double distkit = std::numeric_limits<double>::infinity();
    double baseline = distkit;
    for (int run = 0; run < sizes_.lax_runs; ++run) {
      baseline =
          std::min(baseline, ns_per_op_on_threads(threads, sizes_.lax_increments, baseline_run));
      distkit =
          std::min(distkit, ns_per_op_on_threads(threads, sizes_.lax_increments, distkit_run));
    }
    results_.push_back({"lax warm inc, " + std::to_string(threads) + " thread(s), a key each",
                        "ns/op",
                        distkit,
                        "unordered_map<string, atomic> find + fetch_add",
                        baseline,
                        {Target::Kind::ratio_at_most, 2, ""}});
    lax->clear();
  }

  void measure_lax_flush() {
    auto lax = lax_counter(no_background_flush);
    const std::vector<KeyCount> dirty = numbered_keys("flush", sizes_.flush_keys, 1);
    Costs costs;
    for (int round = 0; round < sizes_.flush_rounds; ++round) {
      lax->inc_all(dirty);
      costs.add(measure_cost([&] { lax->flush(); }));
    }
    const std::string what = "lax flush of " + with_thousands(sizes_.flush_keys) + " dirty keys: ";
    results_.push_back({what + "wall time",
                        "ms",
                        median(costs.wall_ms),
                        "",
                        std::nullopt,
                        {Target::Kind::value_below, 250, ""}});
    results_.push_back(
        {what + "Redis time in scripts", "ms", median(costs.redis_ms), "", std::nullopt, {}});
    results_.push_back({what + "Redis calls (script invocations)",
                        "calls",
                        median(costs.script_calls),
                        "",
                        std::nullopt,
                        {}});
    lax->clear();
  }

  const BenchSizes& sizes_;
  const RedisEndpoint endpoint_;
  const RedisKey prefix_;
  const std::string strict_hash_;
  const std::shared_ptr<Client> client_;
  const std::shared_ptr<StrictCounter> strict_;
  RawRedis raw_;
  const std::string baseline_sha_;
  std::vector<BenchResult> results_;
};

}  // namespace

BenchSizes BenchSizes::for_run(bool quick) {
  if (quick) {
    return {.latency_samples = 5'000,
            .throughput_requests = 20'000,
            .batch_rounds = 15,
            .lax_increments = 10'000'000,
            .lax_runs = 3,
            .flush_keys = 100'000,
            .flush_rounds = 3,
            .memory_keys = 1'000'000};
  }
  return {.latency_samples = 50'000,
          .throughput_requests = 200'000,
          .batch_rounds = 101,
          .lax_increments = 50'000'000,
          .lax_runs = 5,
          .flush_keys = 100'000,
          .flush_rounds = 11,
          .memory_keys = 1'000'000};
}

std::vector<BenchResult> run_bench_measurements(const BenchTarget& target, const BenchSizes& sizes,
                                                const BenchProgress& progress) {
  return BenchRun(target, sizes).run(progress);
}

}  // namespace distkit::tools
