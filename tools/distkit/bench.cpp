#include "bench.hpp"

#include <hiredis/hiredis.h>
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/use_future.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <distkit/distkit.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "counters/scripts.hpp"
#include "output.hpp"
#include "redis_target.hpp"

namespace distkit::tools {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration;

struct BenchOptions {
  bool quick = false;
  std::string out_dir = "bench-results";
};

// How much work each measurement does; --quick divides it.
struct Sizes {
  int latency_calls;
  int throughput_calls;
  int batch_rounds;
  int lax_incs;
  int flush_keys;
  int memory_keys;
};

Sizes sizes_for(bool quick) {
  if (quick) return {2000, 20000, 5, 5'000'000, 100'000, 200'000};
  return {20000, 200000, 20, 50'000'000, 100'000, 1'000'000};
}

struct Result {
  std::string section;
  std::string metric;
  double distkit;
  double baseline;  // 0 when there is none
  std::string unit;
  std::string target;  // e.g. "<= 1.15x"; empty when there is none
};

class Progress {
 public:
  explicit Progress(int steps) : steps_(steps) {}
  void step(const std::string& what) {
    ++done_;
    const int width = 30;
    const int filled = done_ * width / steps_;
    std::cerr << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
              << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << done_ << '/'
              << steps_ << ' ' << what << std::string(30, ' ') << std::flush;
  }
  void finish() { std::cerr << '\n'; }

 private:
  int steps_;
  int done_ = 0;
};

// A hiredis connection for the raw baselines.
class RawRedis {
 public:
  explicit RawRedis(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw std::runtime_error("bad URL " + url);
    host_ = parsed->host_address();
    port_ = parsed->has_port() ? std::stoi(std::string(parsed->port())) : 6379;
    context_ = redisConnect(host_.c_str(), port_);
    if (context_ == nullptr || context_->err) throw std::runtime_error("hiredis cannot connect");
  }
  ~RawRedis() { redisFree(context_); }
  RawRedis(const RawRedis&) = delete;
  RawRedis& operator=(const RawRedis&) = delete;

  // Runs a command given as arguments; returns the reply's text (or the
  // decimal integer), throws on an error reply.
  std::string command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (reply == nullptr) throw std::runtime_error("hiredis: connection lost");
    std::string text = reply->type == REDIS_REPLY_INTEGER
                           ? std::to_string(reply->integer)
                           : std::string(reply->str ? reply->str : "", reply->str ? reply->len : 0);
    const bool failed = reply->type == REDIS_REPLY_ERROR;
    freeReplyObject(reply);
    if (failed) throw std::runtime_error("Redis: " + text);
    return text;
  }

  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  std::string host_;
  int port_ = 6379;
  redisContext* context_ = nullptr;
};

// Sum of `calls` of the EVALSHA and EVAL command statistics.
std::int64_t script_calls(RawRedis& redis) {
  const std::string stats = redis.command({"INFO", "commandstats"});
  std::int64_t total = 0;
  for (const char* name : {"cmdstat_evalsha:calls=", "cmdstat_eval:calls="}) {
    const auto at = stats.find(name);
    if (at != std::string::npos) total += std::stoll(stats.substr(at + std::strlen(name)));
  }
  return total;
}

std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Keeps `depth` async_inc calls in flight until `calls` completed; returns
// ops per second.
double pipelined_incs(Counter& counter, const RedisKey& key, int depth, int calls) {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::mutex mutex;
  std::condition_variable all_done;
  std::function<void()> issue = [&] {
    if (started.fetch_add(1) >= calls) return;
    counter.async_inc(key, 1, [&](boost::system::error_code ec, std::int64_t) {
      if (ec) throw std::runtime_error("async_inc failed: " + ec.message());
      if (finished.fetch_add(1) + 1 == calls) {
        std::lock_guard lock(mutex);
        all_done.notify_one();
      } else {
        issue();
      }
    });
  };
  const auto start = clock::now();
  for (int i = 0; i < depth; ++i) issue();
  std::unique_lock lock(mutex);
  all_done.wait(lock, [&] { return finished.load() == calls; });
  return calls / duration<double>(clock::now() - start).count();
}

// ops/s of redis-benchmark over one connection at pipeline depth `depth`,
// running EVALSHA of StrictCounter's own script with the arguments of
// inc(key, 1).
double redis_benchmark_rps(const RawRedis& redis, const std::string& hash, int depth, int calls) {
  const std::string command =
      "redis-benchmark -h " + redis.host() + " -p " + std::to_string(redis.port()) + " -c 1 -P " +
      std::to_string(depth) + " -n " + std::to_string(calls) + " --csv EVALSHA " +
      detail::strict_update_script().sha1() + " 1 " + hash + " inc bench_key nil 0 1 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run redis-benchmark");
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  pclose(pipe);
  // The last line is "<test>","<rps>",...
  while (!output.empty() && output.back() == '\n') output.pop_back();
  const std::string last_line = output.substr(output.rfind('\n') + 1);
  const auto rps_at = last_line.find("\",\"");
  if (rps_at == std::string::npos) {
    throw std::runtime_error("unexpected redis-benchmark output: " + output);
  }
  return std::stod(last_line.substr(rps_at + 3));
}

double lax_ns_per_inc(LaxCounter& lax, int threads, int incs) {
  std::vector<RedisKey> keys;
  for (int t = 0; t < threads; ++t) {
    keys.emplace_back("warm" + std::to_string(t));
    lax.inc(keys.back(), 0);
  }
  std::vector<std::thread> workers;
  const auto start = clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < incs; ++i) lax.inc(keys[static_cast<std::size_t>(t)], 1);
    });
  }
  for (auto& worker : workers) worker.join();
  return duration<double, std::nano>(clock::now() - start).count() / incs;
}

double baseline_ns_per_inc(int threads, int incs) {
  std::unordered_map<std::string, std::atomic<std::int64_t>> map;
  for (int t = 0; t < threads; ++t) map["warm" + std::to_string(t)];
  std::vector<std::thread> workers;
  const auto start = clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string key = "warm" + std::to_string(t);
      for (int i = 0; i < incs; ++i) map.find(key)->second.fetch_add(1, std::memory_order_relaxed);
    });
  }
  for (auto& worker : workers) worker.join();
  return duration<double, std::nano>(clock::now() - start).count() / incs;
}

std::vector<Result> run_measurements(const std::string& url, const Sizes& sizes) {
  std::vector<Result> results;
  Progress progress(11);
  const RedisKey prefix("distkit_bench_" + std::to_string(getpid()));
  const std::string strict_hash = prefix.str() + ":strict_counter";
  auto client = Client::connect(url);
  auto strict = StrictCounter::create({prefix, client});
  RawRedis raw(url);
  raw.command({"SCRIPT", "LOAD", detail::strict_update_script().body()});
  const RedisKey key("bench_key");

  CounterOptions lax_options(prefix, client);
  lax_options.allowed_lag = std::chrono::hours(1);  // only explicit flushes

  // Memory first, before other measurements leave freed heap behind that
  // new keys would reuse without growing the resident set.
  {
    const std::int64_t before = resident_bytes();
    const std::size_t heap_before = mallinfo2().uordblks;
    auto lax = LaxCounter::create(lax_options);
    constexpr int batch_size = 10000;
    std::vector<KeyCount> keys;
    for (int start = 0; start < sizes.memory_keys; start += batch_size) {
      keys.clear();
      for (int i = start; i < start + batch_size; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "m%09d", i);  // 10 bytes: fits the string's inline buffer
        keys.push_back({RedisKey(name), 1});
      }
      lax->inc_all(keys);
    }
    const std::int64_t after = resident_bytes();
    const std::size_t heap_after = mallinfo2().uordblks;
    results.push_back({"lax memory",
                       with_thousands(sizes.memory_keys) + " keys of 10 bytes: resident",
                       static_cast<double>(after - before) / sizes.memory_keys, 0, "bytes/key",
                       "<= 150 + key length"});
    results.push_back(
        {"lax memory", with_thousands(sizes.memory_keys) + " keys of 10 bytes: heap in use",
         static_cast<double>(heap_after - heap_before) / sizes.memory_keys, 0, "bytes/key", ""});
    lax->clear();
    progress.step("lax memory");
  }
  // 1. One caller: distkit's blocking inc vs hiredis's blocking EVALSHA of
  // the same script with the same arguments.
  // Exact percentiles from every sample: a histogram's buckets would be
  // coarser than the 15 % the target allows.
  std::vector<double> ours, theirs;
  for (int i = 0; i < sizes.latency_calls; ++i) {
    auto start = clock::now();
    strict->inc(key, 1);
    ours.push_back(duration<double, std::micro>(clock::now() - start).count());
    start = clock::now();
    raw.command({"EVALSHA", detail::strict_update_script().sha1(), "1", strict_hash, "inc",
                 "bench_key", "nil", "0", "1"});
    theirs.push_back(duration<double, std::micro>(clock::now() - start).count());
  }
  std::sort(ours.begin(), ours.end());
  std::sort(theirs.begin(), theirs.end());
  auto percentile = [](const std::vector<double>& sorted, double fraction) {
    return sorted[static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1))];
  };
  progress.step("strict latency");
  for (const auto& [name, fraction] : {std::pair{"p50", 0.50}, std::pair{"p99", 0.99}}) {
    results.push_back({"strict inc, 1 caller", std::string(name) + " latency vs hiredis EVALSHA",
                       percentile(ours, fraction), percentile(theirs, fraction), "us",
                       name == std::string("p50") ? "<= 1.15x" : ""});
  }

  // 2. Concurrent callers on one Client vs redis-benchmark at that depth.
  for (const int depth : {1, 4, 16, 64, 256}) {
    const double distkit_rps = pipelined_incs(*strict, key, depth, sizes.throughput_calls);
    const double baseline_rps =
        redis_benchmark_rps(raw, strict_hash, depth, sizes.throughput_calls);
    results.push_back(
        {"strict inc, concurrent callers",
         std::to_string(depth) + " callers vs redis-benchmark -P " + std::to_string(depth),
         distkit_rps, baseline_rps, "ops/s", depth == 64 ? ">= 0.7x" : ""});
    progress.step("strict throughput at depth " + std::to_string(depth));
  }

  // 3. inc_all of 1,000 keys vs the same increments as pipelined per-key
  // script calls (what a client without batch scripts sends).
  std::vector<KeyCount> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back({RedisKey("b" + std::to_string(i)), 1});
  std::vector<double> batch_ms, per_key_ms;
  for (int round = 0; round < sizes.batch_rounds; ++round) {
    auto start = clock::now();
    strict->inc_all(batch);
    batch_ms.push_back(duration<double, std::milli>(clock::now() - start).count());
    start = clock::now();
    std::vector<std::future<std::int64_t>> pending;
    pending.reserve(batch.size());
    for (const auto& entry : batch) {
      pending.push_back(strict->async_inc(entry.key, entry.count, boost::asio::use_future));
    }
    for (auto& result : pending) result.get();
    per_key_ms.push_back(duration<double, std::milli>(clock::now() - start).count());
  }
  std::sort(batch_ms.begin(), batch_ms.end());
  std::sort(per_key_ms.begin(), per_key_ms.end());
  results.push_back({"inc_all, 1,000 keys", "median time vs 1,000 pipelined per-key calls",
                     batch_ms[batch_ms.size() / 2], per_key_ms[per_key_ms.size() / 2], "ms",
                     "<= 0.20x"});
  progress.step("inc_all of 1,000 keys");
  strict->clear();

  // 4. Warm lax increments vs unordered_map + atomic.
  for (const int threads : {1, 2}) {
    auto lax = LaxCounter::create(lax_options);
    // Best of three alternating runs: a short run on a shared machine is
    // easily disturbed, and both sides get the same chances.
    double baseline = std::numeric_limits<double>::max();
    double distkit = std::numeric_limits<double>::max();
    for (int run = 0; run < 3; ++run) {
      baseline = std::min(baseline, baseline_ns_per_inc(threads, sizes.lax_incs));
      distkit = std::min(distkit, lax_ns_per_inc(*lax, threads, sizes.lax_incs));
    }
    results.push_back({"lax warm inc", std::to_string(threads) + " thread(s), distinct keys",
                       distkit, baseline, "ns/op", "<= 2x"});
    lax->clear();
    progress.step("lax inc, " + std::to_string(threads) + " thread(s)");
  }

  // 5. Flushing 100,000 dirty keys.
  {
    auto lax = LaxCounter::create(lax_options);
    std::vector<KeyCount> dirty;
    for (int i = 0; i < sizes.flush_keys; ++i)
      dirty.push_back({RedisKey("f" + std::to_string(i)), 1});
    lax->inc_all(dirty);
    const std::int64_t calls_before = script_calls(raw);
    const auto start = clock::now();
    lax->flush();
    const double ms = duration<double, std::milli>(clock::now() - start).count();
    const std::int64_t calls = script_calls(raw) - calls_before;
    results.push_back({"lax flush", with_thousands(sizes.flush_keys) + " dirty keys: wall time", ms,
                       0, "ms", "< 250 ms"});
    results.push_back({"lax flush", with_thousands(sizes.flush_keys) + " dirty keys: Redis calls",
                       static_cast<double>(calls), 0, "calls", ""});
    lax->clear();
    progress.step("lax flush");
  }

  progress.finish();
  return results;
}

std::string ratio_of(const Result& result) {
  if (result.baseline == 0) return "";
  return fixed(result.distkit / result.baseline, 2) + "x";
}

void write_outputs(const std::vector<Result>& results, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  const std::string csv_path = out_dir + "/bench.csv";
  std::ofstream csv(csv_path);
  csv << "section,metric,distkit,baseline,unit,ratio,target\n";
  for (const auto& r : results) {
    csv << '"' << r.section << "\",\"" << r.metric << "\"," << r.distkit << ',' << r.baseline << ','
        << r.unit << ',' << ratio_of(r) << ",\"" << r.target << "\"\n";
  }
  const std::string data_path = out_dir + "/throughput.dat";
  std::ofstream data(data_path);
  for (const auto& r : results) {
    if (r.section == "strict inc, concurrent callers") {
      data << std::stoi(r.metric) << ' ' << r.distkit << ' ' << r.baseline << '\n';
    }
  }
  data.close();
  const std::string png_path = out_dir + "/throughput.png";
  const std::string script =
      "set terminal pngcairo size 900,540 font 'sans,11'\n"
      "set output '" +
      png_path +
      "'\n"
      "set title 'StrictCounter inc throughput on one connection'\n"
      "set xlabel 'concurrent callers (redis-benchmark: pipeline depth)'\n"
      "set ylabel 'ops/s'\nset logscale x 2\nset grid\nset key left top\n"
      "plot '" +
      data_path + "' using 1:2 with linespoints lw 2 title 'distkit StrictCounter', '" + data_path +
      "' using 1:3 with linespoints lw 2 title 'redis-benchmark EVALSHA'\n";
  FILE* gnuplot = popen("gnuplot 2>/dev/null", "w");
  const bool plotted =
      gnuplot != nullptr && std::fputs(script.c_str(), gnuplot) >= 0 && pclose(gnuplot) == 0;
  std::cout << "wrote " << csv_path
            << (plotted ? " and " + png_path : " (gnuplot not available: no chart)") << '\n';
}

int run_bench(const std::string& url_option, const BenchOptions& options) {
  const RedisTarget target(url_option);
  std::cerr << "distkit bench" << (options.quick ? " --quick" : "") << " against "
            << (target.is_private() ? "a private redis-server at " : "") << target.url() << '\n';
  const auto results = run_measurements(target.url(), sizes_for(options.quick));
  std::vector<std::vector<std::string>> rows{
      {"measurement", "", "distkit", "baseline", "ratio", "target"}};
  for (const auto& r : results) {
    const int digits = r.unit == "ops/s" || r.unit == "calls" ? 0 : 2;
    rows.push_back({r.section, r.metric, fixed(r.distkit, digits) + " " + r.unit,
                    r.baseline == 0 ? "" : fixed(r.baseline, digits) + " " + r.unit, ratio_of(r),
                    r.target});
  }
  std::cout << render_table(rows);
  write_outputs(results, options.out_dir);
  return exit_ok;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<BenchOptions>();
  auto* bench = app.add_subcommand(
      "bench", "Measure distkit against raw hiredis, redis-benchmark and an in-memory map");
  bench->add_flag("--quick", options->quick, "smaller runs (under a minute)");
  bench->add_option("--out", options->out_dir, "directory for bench.csv and throughput.png")
      ->default_val("bench-results");
  bench->callback([options, &exit_code, &app] {
    try {
      exit_code = run_bench(app.get_option("--url")->as<std::string>(), *options);
    } catch (const std::exception& e) {
      exit_code = report_failure(e);
    }
  });
}

}  // namespace distkit::tools
