#include "demo.hpp"

#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <distkit/distkit.hpp>
#include <iostream>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "latency_histogram.hpp"
#include "output.hpp"
#include "redis_target.hpp"

namespace distkit::tools {
namespace {

using clock = std::chrono::steady_clock;
const RedisKey demo_key("hits");
// Timing every lax increment would cost as much as the increment itself.
constexpr std::uint64_t lax_sample_every = 64;

struct WorkerOptions {
  std::string url;
  std::string prefix;
  double seconds = 3;
};

// A worker process: counts on both flavours until the time is up, reporting
// progress lines on stdout, then flushes and reports its totals and latency
// histograms.
int run_worker(const WorkerOptions& options) {
  auto client = Client::connect(options.url);
  CounterOptions counter_options(RedisKey(options.prefix), client);
  auto strict = StrictCounter::create(counter_options);
  auto lax = LaxCounter::create(counter_options);
  const auto deadline = clock::now() + std::chrono::duration<double>(options.seconds);
  std::atomic<std::uint64_t> strict_ops{0}, lax_ops{0};
  LatencyHistogram strict_latency, lax_latency;

  std::thread strict_thread([&] {
    while (clock::now() < deadline) {
      const auto start = clock::now();
      strict->inc(demo_key, 1);
      strict_latency.record(clock::now() - start);
      strict_ops.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::thread lax_thread([&] {
    lax->inc(demo_key, 0);  // the first touch reads Redis; time the warm path
    std::uint64_t done = 0;
    while (clock::now() < deadline) {
      const auto start = clock::now();
      lax->inc(demo_key, 1);
      lax_latency.record(clock::now() - start);
      for (std::uint64_t i = 1; i < lax_sample_every; ++i) lax->inc(demo_key, 1);
      done += lax_sample_every;
      lax_ops.store(done, std::memory_order_relaxed);
    }
  });
  while (clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::cout << "progress " << strict_ops.load() << ' ' << lax_ops.load() << std::endl;
  }
  strict_thread.join();
  lax_thread.join();
  lax->flush();
  std::cout << "strict_latency " << strict_latency.serialize() << '\n'
            << "lax_latency " << lax_latency.serialize() << '\n'
            << "done " << strict_ops.load() << ' ' << lax_ops.load() << std::endl;
  return exit_ok;
}

struct Worker {
  pid_t pid = -1;
  int output = -1;
  std::string buffer;
  std::uint64_t strict_ops = 0, lax_ops = 0;
  bool done = false;
};

Worker spawn_worker(const WorkerOptions& options) {
  const ChildProcess child =
      spawn({"/proc/self/exe", "demo-worker", "--url", options.url, "--prefix", options.prefix,
             "--seconds", std::to_string(options.seconds)},
            ChildOutput::pipe);
  return {child.pid, child.output, {}, 0, 0, false};
}

// Consumes the complete lines a worker wrote.
void read_lines(Worker& worker, LatencyHistogram& strict_latency, LatencyHistogram& lax_latency) {
  char chunk[4096];
  const ssize_t n = read(worker.output, chunk, sizeof chunk);
  if (n <= 0) {
    close(worker.output);
    worker.output = -1;
    return;
  }
  worker.buffer.append(chunk, static_cast<std::size_t>(n));
  for (std::size_t end; (end = worker.buffer.find('\n')) != std::string::npos;) {
    std::istringstream line(worker.buffer.substr(0, end));
    worker.buffer.erase(0, end + 1);
    std::string kind;
    line >> kind;
    std::string rest;
    std::getline(line, rest);
    if (kind == "progress" || kind == "done") {
      std::istringstream(rest) >> worker.strict_ops >> worker.lax_ops;
      worker.done = kind == "done";
    } else if (kind == "strict_latency") {
      strict_latency.merge_serialized(rest);
    } else if (kind == "lax_latency") {
      lax_latency.merge_serialized(rest);
    }
  }
}

int run_demo(const DemoOptions& options) {
  const RedisTarget target(options.url);
  const std::string prefix = "distkit_demo_" + std::to_string(getpid());
  auto client = Client::connect(target.url());
  CounterOptions counter_options(RedisKey(prefix), client);
  auto strict = StrictCounter::create(counter_options);
  auto lax = LaxCounter::create(counter_options);
  strict->clear();
  lax->clear();

  std::cerr << "distkit demo: " << options.workers << " processes incrementing one strict and one"
            << " lax counter for " << options.seconds << " s on "
            << (target.is_private() ? "a private redis-server at " : "") << target.url() << '\n';
  std::vector<Worker> workers;
  for (int i = 0; i < options.workers; ++i) {
    workers.push_back(spawn_worker({target.url(), prefix, options.seconds}));
  }
  LatencyHistogram strict_latency, lax_latency;
  const auto start = clock::now();
  std::uint64_t last_strict = 0, last_lax = 0;
  auto last_report = start;
  for (;;) {
    std::vector<pollfd> fds;
    for (const Worker& worker : workers) {
      if (worker.output >= 0) fds.push_back({worker.output, POLLIN, 0});
    }
    if (fds.empty()) break;
    poll(fds.data(), fds.size(), 100);
    for (Worker& worker : workers) {
      for (const pollfd& fd : fds) {
        if (fd.fd == worker.output && (fd.revents & (POLLIN | POLLHUP))) {
          read_lines(worker, strict_latency, lax_latency);
        }
      }
    }
    const auto now = clock::now();
    if (now - last_report >= std::chrono::milliseconds(500)) {
      std::uint64_t strict_total = 0, lax_total = 0;
      for (const Worker& worker : workers) {
        strict_total += worker.strict_ops;
        lax_total += worker.lax_ops;
      }
      const double elapsed = std::chrono::duration<double>(now - last_report).count();
      // One live line on a terminal; a line per report in a log.
      std::cerr << (isatty(STDERR_FILENO) ? "\r  " : "  ")
                << fixed(std::chrono::duration<double>(now - start).count(), 1) << " s   strict "
                << with_thousands(static_cast<std::int64_t>((strict_total - last_strict) / elapsed))
                << " ops/s   lax "
                << with_thousands(static_cast<std::int64_t>((lax_total - last_lax) / elapsed))
                << " ops/s      " << (isatty(STDERR_FILENO) ? "" : "\n") << std::flush;
      last_strict = strict_total;
      last_lax = lax_total;
      last_report = now;
    }
  }
  std::cerr << '\n';
  std::uint64_t expected_strict = 0, expected_lax = 0;
  bool all_done = true;
  for (Worker& worker : workers) {
    all_done = wait_for_exit(worker.pid) == 0 && all_done && worker.done;
    expected_strict += worker.strict_ops;
    expected_lax += worker.lax_ops;
  }
  if (!all_done) throw std::runtime_error("a demo worker failed");

  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  const std::int64_t strict_total = strict->get(demo_key);
  const std::int64_t lax_total = lax->get(demo_key);
  auto row = [&](const char* flavour, std::uint64_t expected, std::int64_t in_redis,
                 const LatencyHistogram& latency) {
    return std::vector<std::string>{
        flavour,
        with_thousands(static_cast<std::int64_t>(expected)),
        with_thousands(in_redis),
        static_cast<std::uint64_t>(in_redis) == expected ? "yes" : "NO",
        with_thousands(static_cast<std::int64_t>(static_cast<double>(expected) / options.seconds)),
        format_nanos(static_cast<double>(latency.percentile(0.50).count())),
        format_nanos(static_cast<double>(latency.percentile(0.99).count()))};
  };
  std::cout << render_table({{"flavour", "expected total", "total in Redis", "exact", "ops/s",
                              "p50 latency", "p99 latency"},
                             row("strict", expected_strict, strict_total, strict_latency),
                             row("lax", expected_lax, lax_total, lax_latency)});
  std::cout << "(" << options.workers << " processes, " << fixed(seconds, 1)
            << " s; lax totals read after every worker flushed)\n";
  strict->clear();
  lax->clear();
  const bool exact = static_cast<std::uint64_t>(strict_total) == expected_strict &&
                     static_cast<std::uint64_t>(lax_total) == expected_lax;
  return exact ? exit_ok : exit_failure;
}

}  // namespace

void add_demo_commands(CLI::App& app, int& exit_code) {
  auto demo_options = std::make_shared<DemoOptions>();
  auto* demo = app.add_subcommand(
      "demo", "Run N processes counting on one strict and one lax counter; check the totals");
  demo->add_option("--workers", demo_options->workers, "worker processes")
      ->default_val(4)
      ->check(CLI::Range(1, 64));
  demo->add_option("--seconds", demo_options->seconds, "how long they count")
      ->default_val(3)
      ->check(CLI::Range(0.1, 3600.0));
  demo->callback([demo_options, &exit_code, &app] {
    try {
      demo_options->url = app.get_option("--url")->as<std::string>();
      exit_code = run_demo(*demo_options);
    } catch (const std::exception& e) {
      exit_code = report_failure(e);
    }
  });

  auto worker_options = std::make_shared<WorkerOptions>();
  auto* worker = app.add_subcommand("demo-worker", "one process of the demo");
  worker->group("");  // hidden from --help
  worker->add_option("--url", worker_options->url)->required();
  worker->add_option("--prefix", worker_options->prefix)->required();
  worker->add_option("--seconds", worker_options->seconds)->required();
  worker->callback([worker_options, &exit_code] {
    try {
      exit_code = run_worker(*worker_options);
    } catch (const std::exception& e) {
      exit_code = report_failure(e);
    }
  });
}

}  // namespace distkit::tools
