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
#include <tuple>
#include <unordered_map>

#include "bench_cluster.hpp"
#include "bench_tls.hpp"
#include "in_flight.hpp"
#include "latency_samples.hpp"
#include "number_format.hpp"
#include "raw_redis.hpp"
#include "redis_benchmark.hpp"
#include "redis_cpu.hpp"
#include "script_stats.hpp"

namespace distkit::tools {
namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::duration<double, std::milli>;

// The reference crate's method, reproduced as the baseline of the
// conditional and batch rows: one script call per key that reads the value,
// checks the comparator, increments, and returns (new, old) as the Rust
// distkit's inc_if does. Written for this bench (neither the library's
// scripts nor the Rust distkit's); like the latter it computes with Lua
// numbers. ARGV: field, op ("nil", "eq", ... "ge"), operand, count.
constexpr std::string_view reference_script = R"lua(
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local op, operand = ARGV[2], tonumber(ARGV[3])
local matches = op == 'nil'
  or (op == 'eq' and old == operand) or (op == 'ne' and old ~= operand)
  or (op == 'lt' and old < operand) or (op == 'le' and old <= operand)
  or (op == 'gt' and old > operand) or (op == 'ge' and old >= operand)
local new = old
if matches then new = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[4]) end
return {new, old}
)lua";
constexpr int batch_keys = 1000;
constexpr int conditional_callers = 64;
constexpr int concurrency_levels[] = {1, 4, 16, 64, 256};
constexpr int memory_chunk = 10'000;
// Memory keys are "m" + 9 digits, 10 bytes: short enough for std::string's
// inline buffer, as most counter keys are.
constexpr std::size_t memory_key_length = 10;
// No background flush during a measurement that flushes by itself.
constexpr std::chrono::hours no_background_flush{1};

// The bench sends large requests (first touches of 10,000 keys, flushes of
// 100,000) and may share the machine with other work: a generous command
// timeout keeps a slow moment from failing the whole run.
ClientOptions bench_client_options(const std::string& url) {
  ClientOptions options;
  options.url = url;
  options.command_timeout = std::chrono::seconds(10);
  return options;
}

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

// Wall time of repeated rounds, and the Redis CPU they took in total.
struct TimedRounds {
  std::vector<double> wall_ms;
  double redis_cpu_seconds = 0;

  // Redis CPU microseconds per operation, for `operations` per round.
  double cpu_us_per_op(int operations) const {
    return redis_cpu_seconds * 1e6 / (static_cast<double>(wall_ms.size()) * operations);
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
        url_(target.url),
        tls_(target.tls),
        cluster_(target.cluster),
        prefix_(target.prefix),
        strict_hash_(target.prefix + ":strict_counter"),
        client_(Client::connect(bench_client_options(target.url))),
        strict_(StrictCounter::create({prefix_, client_})),
        raw_(endpoint_),
        reference_sha_(raw_.query({"SCRIPT", "LOAD", std::string(reference_script)})) {}

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

  std::vector<BenchResult> run(std::string_view only, const BenchProgress& progress) {
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
    steps.emplace_back("strict inc_if, " + std::to_string(conditional_callers) + " callers",
                       [this] { measure_strict_inc_if(); });
    steps.emplace_back("inc_all of 1,000 keys", [this] { measure_inc_all(); });
    for (const int threads : {1, 2}) {
      steps.emplace_back("lax warm inc, " + std::to_string(threads) + " thread(s)",
                         [this, threads] { measure_lax_warm_inc(threads); });
    }
    steps.emplace_back("lax flush of " + with_thousands(sizes_.flush_keys) + " keys",
                       [this] { measure_lax_flush(); });
    if (tls_) steps.emplace_back("TLS against plain TCP", [this] { measure_tls(); });
    if (cluster_ != nullptr) {
      steps.emplace_back(std::string(cluster_step_name), [this] {
        results_.push_back(
            measure_cluster_scaling({url_, *cluster_, prefix_}, sizes_.throughput_requests));
      });
    }

    std::erase_if(steps,
                  [only](const auto& step) { return !bench_step_selected(step.first, only); });
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

  // Arguments of one call of the reference script on `field`.
  std::vector<std::string> reference_call(const std::string& field, const std::string& op,
                                          std::int64_t operand, std::int64_t count) const {
    return {"EVALSHA",
            reference_sha_,
            "1",
            strict_hash_,
            field,
            op,
            std::to_string(operand),
            std::to_string(count)};
  }

  std::vector<std::string> plain_hincrby(const std::string& field) const {
    return {"HINCRBY", strict_hash_, field, "1"};
  }

  // redis-benchmark's requests per second for `command` at `depth`, and
  // the Redis CPU microseconds per request it caused.
  std::pair<double, double> redis_benchmark_with_cpu(int depth,
                                                     const std::vector<std::string>& command) {
    double rps = 0;
    const double cpu = redis_cpu_micros_per_op(raw_, sizes_.throughput_requests, [&] {
      rps = redis_benchmark_requests_per_second(endpoint_, depth, sizes_.throughput_requests,
                                                command);
    });
    return {rps, cpu};
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

  // Interleaved single-caller round trips of StrictCounter::inc and of the
  // same HINCRBY sent by blocking hiredis, so both see the same machine.
  void measure_strict_latency() {
    const RedisKey key("latency");
    const PreparedCommand baseline(plain_hincrby("baseline_latency"));
    constexpr int warm_up = 200;
    for (int i = 0; i < warm_up; ++i) {
      strict_->inc(key, 1);
      raw_.execute(baseline);
    }
    const auto samples = static_cast<std::size_t>(sizes_.latency_samples);
    LatencySamples distkit(samples), hiredis(samples);
    for (std::size_t i = 0; i < samples; ++i) {
      const auto before_distkit = Clock::now();
      strict_->inc(key, 1);
      const auto before_hiredis = Clock::now();
      raw_.execute(baseline);
      const auto after = Clock::now();
      distkit.record(before_hiredis - before_distkit);
      hiredis.record(after - before_hiredis);
    }
    for (const auto& [name, fraction, limit] :
         {std::tuple{"p50", 0.50, 1.15}, std::tuple{"p99", 0.99, 1.5}}) {
      const auto micros = [fraction](LatencySamples& latencies) {
        return std::chrono::duration<double, std::micro>(latencies.percentile(fraction)).count();
      };
      results_.push_back({"strict inc, 1 caller: " + std::string(name) + " latency",
                          "us",
                          micros(distkit),
                          "hiredis blocking HINCRBY",
                          micros(hiredis),
                          {Target::Kind::ratio_at_most, limit, ""}});
    }
  }

  // StrictCounter::inc with `callers` in flight on one Client, against the
  // plain HINCRBY at the same pipeline depth (the limit); at 64, also
  // against the reference method's per-key script.
  void measure_strict_throughput(int callers) {
    const RedisKey key("throughput");
    const int requests = sizes_.throughput_requests;
    double elapsed = 0;
    const double distkit_cpu = redis_cpu_micros_per_op(raw_, requests, [&] {
      elapsed = run_in_flight(callers, requests, [&](int, Completion done) {
                  strict_->async_inc(key, 1,
                                     [done = std::move(done)](boost::system::error_code error,
                                                              std::int64_t) { done(error); });
                }).count();
    });
    const auto [plain_rps, plain_cpu] =
        redis_benchmark_with_cpu(callers, plain_hincrby("baseline_throughput"));

    const bool target_level = callers == conditional_callers;
    const std::string what =
        "strict inc, " +
        (callers == 1 ? "1 caller" : std::to_string(callers) + " concurrent callers");
    const std::string depth = " -c 1 -P " + std::to_string(callers);
    BenchResult plain{what,
                      "ops/s",
                      requests / elapsed,
                      "redis-benchmark" + depth + " HINCRBY",
                      plain_rps,
                      target_level ? Target{Target::Kind::ratio_at_least, 0.5, ""} : Target{},
                      callers};
    plain.distkit_redis_cpu_us = distkit_cpu;
    plain.baseline_redis_cpu_us = plain_cpu;
    results_.push_back(plain);
    if (target_level) {
      const auto [reference_rps, reference_cpu] =
          redis_benchmark_with_cpu(callers, reference_call("baseline_reference", "nil", 0, 1));
      BenchResult reference{what,
                            "ops/s",
                            requests / elapsed,
                            "redis-benchmark" + depth + " EVALSHA reference per-key script",
                            reference_rps,
                            {}};
      reference.distkit_redis_cpu_us = distkit_cpu;
      reference.baseline_redis_cpu_us = reference_cpu;
      results_.push_back(reference);
    }
  }

  // inc_if whose comparator matches, 64 in flight, against the reference
  // method's per-key script at the same depth.
  void measure_strict_inc_if() {
    const RedisKey key("conditional");
    const int requests = sizes_.throughput_requests;
    double elapsed = 0;
    const double distkit_cpu = redis_cpu_micros_per_op(raw_, requests, [&] {
      elapsed = run_in_flight(conditional_callers, requests, [&](int, Completion done) {
                  strict_->async_inc_if(key, CounterComparator::ge(0), 1,
                                        [done = std::move(done)](boost::system::error_code error,
                                                                 UpdateResult) { done(error); });
                }).count();
    });
    const auto [reference_rps, reference_cpu] = redis_benchmark_with_cpu(
        conditional_callers, reference_call("baseline_conditional", "ge", 0, 1));
    BenchResult row{"strict inc_if (comparator matches), " + std::to_string(conditional_callers) +
                        " concurrent callers",
                    "ops/s",
                    requests / elapsed,
                    "redis-benchmark -c 1 -P " + std::to_string(conditional_callers) +
                        " EVALSHA reference per-key script",
                    reference_rps,
                    {Target::Kind::ratio_at_least, 1.2, ""}};
    row.distkit_redis_cpu_us = distkit_cpu;
    row.baseline_redis_cpu_us = reference_cpu;
    results_.push_back(row);
  }

  // Rounds of `call`, timed, with the Redis CPU they took.
  TimedRounds timed_rounds(int rounds, const std::function<void()>& call) {
    TimedRounds timed;
    const double cpu_before = redis_cpu_seconds(raw_);
    for (int round = 0; round < rounds; ++round) {
      const auto began = Clock::now();
      call();
      timed.wall_ms.push_back(Milliseconds(Clock::now() - began).count());
    }
    timed.redis_cpu_seconds = redis_cpu_seconds(raw_) - cpu_before;
    return timed;
  }

  // One inc_all of 1,000 keys against what a user would send instead: the
  // reference method's 1,000 per-key scripts, pipelined as the Rust distkit
  // batches them, and 1,000 plain HINCRBY, pipelined (the limit).
  void measure_inc_all() {
    const std::vector<KeyCount> batch = numbered_keys("batch", batch_keys, 1);
    std::vector<PreparedCommand> reference_batch, plain_batch;
    for (int i = 0; i < batch_keys; ++i) {
      reference_batch.emplace_back(
          reference_call("baseline_batch" + std::to_string(i), "nil", 0, 1));
      plain_batch.emplace_back(plain_hincrby("baseline_plain_batch" + std::to_string(i)));
    }
    const auto one_call = [&] { strict_->inc_all(batch); };
    const auto reference_pipeline = [&] { raw_.execute_pipelined(reference_batch); };
    const auto plain_pipeline = [&] { raw_.execute_pipelined(plain_batch); };
    one_call();  // warm-up: the keys exist and the scripts are loaded
    reference_pipeline();
    plain_pipeline();
    // Alternating blocks of rounds, so that both sides see the same machine.
    TimedRounds distkit, reference, plain;
    constexpr int block = 10;
    const auto add = [](TimedRounds& total, const TimedRounds& part) {
      total.wall_ms.insert(total.wall_ms.end(), part.wall_ms.begin(), part.wall_ms.end());
      total.redis_cpu_seconds += part.redis_cpu_seconds;
    };
    for (int done = 0; done < sizes_.batch_rounds; done += block) {
      const int rounds = std::min(block, sizes_.batch_rounds - done);
      add(distkit, timed_rounds(rounds, one_call));
      add(reference, timed_rounds(rounds, reference_pipeline));
      add(plain, timed_rounds(rounds, plain_pipeline));
    }
    const std::string what = "strict inc_all of 1,000 keys, one call";
    BenchResult against_reference{what,
                                  "ms",
                                  median(distkit.wall_ms),
                                  "1,000 reference per-key scripts, hiredis pipelined",
                                  median(reference.wall_ms),
                                  {Target::Kind::ratio_at_most, 0.125, "(8x faster)"}};
    against_reference.distkit_redis_cpu_us = distkit.cpu_us_per_op(batch_keys);
    against_reference.baseline_redis_cpu_us = reference.cpu_us_per_op(batch_keys);
    results_.push_back(against_reference);
    BenchResult against_plain{what,
                              "ms",
                              median(distkit.wall_ms),
                              "1,000 HINCRBY, hiredis pipelined",
                              median(plain.wall_ms),
                              {}};
    against_plain.distkit_redis_cpu_us = distkit.cpu_us_per_op(batch_keys);
    against_plain.baseline_redis_cpu_us = plain.cpu_us_per_op(batch_keys);
    results_.push_back(against_plain);
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

  // A flush of many dirty keys against what a user would send instead: one
  // pipelined HINCRBY per key.
  void measure_lax_flush() {
    auto lax = lax_counter(no_background_flush);
    const std::vector<KeyCount> dirty = numbered_keys("flush", sizes_.flush_keys, 1);
    std::vector<PreparedCommand> plain_batch;
    for (int i = 0; i < sizes_.flush_keys; ++i) {
      plain_batch.emplace_back(plain_hincrby("baseline_flush" + std::to_string(i)));
    }
    Costs costs;
    TimedRounds flush_rounds, plain_rounds;
    for (int round = 0; round < sizes_.flush_rounds; ++round) {
      lax->inc_all(dirty);
      const double cpu_before = redis_cpu_seconds(raw_);
      costs.add(measure_cost([&] { lax->flush(); }));
      flush_rounds.redis_cpu_seconds += redis_cpu_seconds(raw_) - cpu_before;
      const TimedRounds plain = timed_rounds(1, [&] { raw_.execute_pipelined(plain_batch); });
      plain_rounds.wall_ms.push_back(plain.wall_ms.front());
      plain_rounds.redis_cpu_seconds += plain.redis_cpu_seconds;
    }
    flush_rounds.wall_ms = costs.wall_ms;
    const std::string what = "lax flush of " + with_thousands(sizes_.flush_keys) + " dirty keys: ";
    BenchResult wall{what + "wall time",
                     "ms",
                     median(costs.wall_ms),
                     with_thousands(sizes_.flush_keys) + " HINCRBY, hiredis pipelined",
                     median(plain_rounds.wall_ms),
                     {Target::Kind::ratio_at_most, 0.6, ""}};
    wall.distkit_redis_cpu_us = flush_rounds.cpu_us_per_op(sizes_.flush_keys);
    wall.baseline_redis_cpu_us = plain_rounds.cpu_us_per_op(sizes_.flush_keys);
    results_.push_back(wall);
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

  void measure_tls() {
    ClientOptions plain;
    plain.url = url_;
    for (BenchResult& row : measure_tls_cost({plain, *tls_, prefix_}, sizes_.latency_samples,
                                             sizes_.throughput_requests, raw_)) {
      results_.push_back(std::move(row));
    }
  }

  const BenchSizes& sizes_;
  const RedisEndpoint endpoint_;
  const std::string url_;
  const std::optional<ClientOptions> tls_;
  const LocalRedisCluster* const cluster_;
  const RedisKey prefix_;
  const std::string strict_hash_;
  const std::shared_ptr<Client> client_;
  const std::shared_ptr<StrictCounter> strict_;
  RawRedis raw_;
  const std::string reference_sha_;
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

bool bench_step_selected(std::string_view step, std::string_view only) {
  return step.find(only) != std::string_view::npos;
}

std::vector<BenchResult> run_bench_measurements(const BenchTarget& target, const BenchSizes& sizes,
                                                std::string_view only,
                                                const BenchProgress& progress) {
  return BenchRun(target, sizes).run(only, progress);
}

}  // namespace distkit::tools
