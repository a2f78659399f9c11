#include "demo.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "child_process.hpp"
#include "command_inputs.hpp"
#include "demo_cluster.hpp"
#include "demo_report.hpp"
#include "demo_worker.hpp"
#include "exit_codes.hpp"
#include "instance_demo.hpp"
#include "json.hpp"
#include "number_format.hpp"
#include "redis_target.hpp"
#include "status_line.hpp"
#include "text_table.hpp"
#include "url_in_use.hpp"

namespace distkit::tools {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds status_interval{500};

constexpr double min_seconds = 0.1, max_seconds = 3600;

struct DemoOptions {
  int workers = 4;
  double seconds = 3;
  bool tls = false;      // on a private redis-server over TLS
  bool cluster = false;  // on a private Redis Cluster of cluster_masters masters
};

constexpr int cluster_masters = 3;

RedisTarget demo_target(const GlobalOptions& global, const DemoOptions& options) {
  if (options.cluster) {
    if (!global.url.empty() || options.tls) {
      throw ToolError(exit_usage,
                      "--cluster runs the demo on a private Redis Cluster: leave out --url and "
                      "--tls");
    }
    return RedisTarget(RedisTarget::PrivateCluster{cluster_masters});
  }
  if (!options.tls) return RedisTarget(global);
  if (!global.url.empty()) {
    throw ToolError(exit_usage,
                    "--tls runs the demo on a private TLS redis-server: leave out --url");
  }
  return RedisTarget(RedisTarget::PrivateTls{});
}

// A worker process and what it has reported so far.
struct Worker {
  explicit Worker(const std::vector<std::string>& argv)
      : process(spawn(argv, ChildOutput::pipe, {}, ChildLifetime::ends_with_caller)) {}
  // A worker not waited for (the demo failed midway) is stopped with it.
  ~Worker() {
    if (process.output >= 0) close(process.output);
    if (process.pid > 0) {
      kill(process.pid, SIGTERM);
      wait_for_exit(process.pid);
    }
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Waits for the worker to exit and returns its exit code.
  int wait() {
    const int exit_code = wait_for_exit(process.pid);
    process.pid = -1;
    return exit_code;
  }

  ChildProcess process;  // output is -1 once the worker closed its stdout, pid once reaped
  std::string partial_line;
  WorkerTally tally;
};

// Reads what `worker` wrote and applies every complete line; closes its
// pipe at end of file.
void read_reports(Worker& worker) {
  char buffer[4096];
  const ssize_t n = read(worker.process.output, buffer, sizeof buffer);
  if (n <= 0) {
    if (n == 0 || errno != EINTR) {
      close(worker.process.output);
      worker.process.output = -1;
    }
    return;
  }
  worker.partial_line.append(buffer, static_cast<std::size_t>(n));
  for (std::size_t end; (end = worker.partial_line.find('\n')) != std::string::npos;) {
    apply_report_line(std::string_view(worker.partial_line).substr(0, end), worker.tally);
    worker.partial_line.erase(0, end + 1);
  }
}

// Waits for reports until every worker closed its output, showing the
// combined rate of each flavour on the status line.
void follow_workers(std::vector<std::unique_ptr<Worker>>& workers) {
  StatusLine status;
  const auto start = Clock::now();
  auto last_shown = start;
  std::uint64_t last_strict = 0, last_lax = 0;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Worker*> polled;
    for (const auto& worker : workers) {
      if (worker->process.output < 0) continue;
      fds.push_back({worker->process.output, POLLIN, 0});
      polled.push_back(worker.get());
    }
    if (fds.empty()) return;
    if (poll(fds.data(), fds.size(), static_cast<int>(status_interval.count())) > 0) {
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents != 0) read_reports(*polled[i]);
      }
    }
    const auto now = Clock::now();
    if (now - last_shown < status_interval) continue;
    std::uint64_t strict = 0, lax = 0;
    for (const auto& worker : workers) {
      strict += worker->tally.strict_incs;
      lax += worker->tally.lax_incs;
    }
    const double interval = std::chrono::duration<double>(now - last_shown).count();
    const auto rate = [interval](std::uint64_t now_count, std::uint64_t then_count) {
      return with_thousands(static_cast<std::int64_t>((now_count - then_count) / interval));
    };
    status.show(fixed(std::chrono::duration<double>(now - start).count(), 1) + " s   strict " +
                rate(strict, last_strict) + " ops/s   lax " + rate(lax, last_lax) + " ops/s");
    last_strict = strict;
    last_lax = lax;
    last_shown = now;
  }
}

struct FlavourOutcome {
  const char* name;
  std::uint64_t expected;
  std::int64_t in_redis;
  const LatencyHistogram& latency;
  bool exact() const { return in_redis >= 0 && static_cast<std::uint64_t>(in_redis) == expected; }
};

// `masters_json`, when not empty, is the private cluster's per-master load.
void print_outcome(const std::vector<FlavourOutcome>& flavours, const DemoOptions& options,
                   const std::string& where, const std::string& masters_json, bool json) {
  const auto ops_per_second = [&](const FlavourOutcome& flavour) {
    return static_cast<double>(flavour.expected) / options.seconds;
  };
  bool all_exact = true;
  for (const FlavourOutcome& flavour : flavours) all_exact = all_exact && flavour.exact();
  if (json) {
    std::vector<std::string> rows;
    for (const FlavourOutcome& flavour : flavours) {
      rows.push_back(JsonObject()
                         .add_string("flavour", flavour.name)
                         .add_int("expected_total", static_cast<std::int64_t>(flavour.expected))
                         .add_int("redis_total", flavour.in_redis)
                         .add_bool("exact", flavour.exact())
                         .add_number("ops_per_second", ops_per_second(flavour))
                         .add_int("p50_ns", flavour.latency.percentile(0.50).count())
                         .add_int("p99_ns", flavour.latency.percentile(0.99).count())
                         .str());
    }
    JsonObject object;
    object.add_int("workers", options.workers)
        .add_number("seconds", options.seconds)
        .add_string("redis", where)
        .add_bool("exact", all_exact)
        .add_json("flavours", json_array(rows));
    if (!masters_json.empty()) object.add_json("masters", masters_json);
    std::cout << object.str() << '\n';
    return;
  }
  std::vector<TableRow> rows{{"flavour", "expected total", "total in Redis", "exact", "ops/s",
                              "p50 latency", "p99 latency"}};
  for (const FlavourOutcome& flavour : flavours) {
    rows.push_back({flavour.name, with_thousands(static_cast<std::int64_t>(flavour.expected)),
                    with_thousands(flavour.in_redis), flavour.exact() ? "yes" : "NO",
                    with_thousands(static_cast<std::int64_t>(ops_per_second(flavour))),
                    human_duration(flavour.latency.percentile(0.50)),
                    human_duration(flavour.latency.percentile(0.99))});
  }
  std::cout << render_table(rows) << options.workers << " processes for " << options.seconds
            << " s; the lax total was read after every worker flushed. "
            << (all_exact ? "Both totals are exact." : "A TOTAL IS OFF.") << '\n';
}

// The sum of `values`, which the demo's counts keep far from int64's limits.
std::int64_t sum(const std::vector<std::int64_t>& values) {
  std::int64_t total = 0;
  for (const std::int64_t value : values) total += value;
  return total;
}

int run_demo(const GlobalOptions& global, const DemoOptions& options) {
  // Before the first thread starts (the client's), and before anything it
  // would have to clean up.
  clean_up_when_interrupted();
  const RedisTarget target = demo_target(global, options);
  const int shards = options.cluster && global.shards == 1 ? cluster_masters : global.shards;
  const RedisKey prefix = demo_prefix(global, target, shards);
  // Workers find Redis through the environment rather than their command
  // line, where a password would show in `ps`.
  setenv("REDIS_URL", target.url().c_str(), 1);
  auto client = Client::connect(target.client_options());
  CounterOptions counter_options(prefix, client);
  counter_options.shards = shards;
  auto strict = StrictCounter::create(counter_options);
  strict->clear();
  LaxCounter::create(counter_options)->clear();

  std::cerr << "distkit demo: " << options.workers << " processes increment one strict and one lax"
            << " counter" << (shards > 1 ? " of " + std::to_string(shards) + " shards" : "")
            << " for " << options.seconds << " s on " << target.description() << '\n';
  const std::vector<std::int64_t> commands_before = target.cluster() != nullptr
                                                        ? commands_processed(*target.cluster())
                                                        : std::vector<std::int64_t>{};
  const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < options.workers; ++i) {
    std::vector<std::string> argv{self,
                                  "--prefix",
                                  prefix.str(),
                                  "--shards",
                                  std::to_string(shards),
                                  "demo-worker",
                                  "--seconds",
                                  std::to_string(options.seconds)};
    const auto tls = tls_arguments(target.client_options().tls);
    argv.insert(argv.end(), tls.begin(), tls.end());
    workers.push_back(std::make_unique<Worker>(argv));
  }
  follow_workers(workers);

  WorkerTally total;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const int exit_code = workers[i]->wait();
    if (exit_code != 0 || !workers[i]->tally.finished) {
      throw std::runtime_error("demo worker " + std::to_string(i + 1) + " failed (exit code " +
                               std::to_string(exit_code) + ")");
    }
    total.strict_incs += workers[i]->tally.strict_incs;
    total.lax_incs += workers[i]->tally.lax_incs;
    total.strict_latency.merge(workers[i]->tally.strict_latency);
    total.lax_latency.merge(workers[i]->tally.lax_latency);
  }
  const std::vector<MasterLoad> loads =
      target.cluster() != nullptr ? master_loads(*target.cluster(), prefix, shards, commands_before)
                                  : std::vector<MasterLoad>{};

  const std::vector<RedisKey> keys = demo_keys(shards);
  // A new LaxCounter's first read of the keys goes to Redis.
  auto lax_reader = LaxCounter::create(counter_options);
  const std::vector<FlavourOutcome> flavours{
      {"strict", total.strict_incs, sum(strict->get_all(keys)), total.strict_latency},
      {"lax", total.lax_incs, sum(lax_reader->get_all(keys)), total.lax_latency}};
  print_outcome(flavours, options, target.description(),
                target.cluster() != nullptr ? master_loads_json(loads, options.seconds) : "",
                global.json);
  if (!global.json && target.cluster() != nullptr) {
    print_master_loads(loads, shards, options.seconds);
  }
  strict->clear();
  lax_reader->clear();
  const bool exact = flavours[0].exact() && flavours[1].exact();
  return exact ? exit_ok : exit_failure;
}

}  // namespace

void add_demo_commands(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto demo_options = std::make_shared<DemoOptions>();
  auto* demo = app.add_subcommand(
      "demo", "Run N processes counting on one strict and one lax counter; check the totals");
  demo->add_option("--workers", demo_options->workers, "worker processes, 1 to 64")
      ->capture_default_str()
      ->check(canonical_int64(1, 64));
  demo->add_option("--seconds", demo_options->seconds, "how long they count, 0.1 to 3600")
      ->capture_default_str()
      ->check(decimal_seconds(min_seconds, max_seconds));
  demo->add_flag("--cluster", demo_options->cluster,
                 "start a private Redis Cluster of 3 masters and count on counters of --shards "
                 "shards (3 unless given), showing each master's commands/s");
  demo->add_flag("--tls", demo_options->tls,
                 "start a private redis-server and count over TLS, verified against a CA made "
                 "for the run");
  demo->callback([&options, &exit_code, demo_options] {
    exit_code = run_reporting_failure([&] {
      if (options.instance_aware) {
        if (demo_options->cluster) {
          throw ToolError(exit_usage,
                          "--cluster runs the strict and lax demo: leave out "
                          "--instance-aware");
        }
        clean_up_when_interrupted();
        return run_instance_demo(options, demo_target(options, *demo_options),
                                 demo_options->workers, demo_options->seconds);
      }
      return run_demo(options, *demo_options);
    });
  });

  auto worker_options = std::make_shared<DemoWorkerOptions>();
  auto* worker = app.add_subcommand("demo-worker", "one process of the demo");
  worker->group("");  // an empty group hides it from --help
  worker->add_option("--seconds", worker_options->seconds)
      ->required()
      ->check(decimal_seconds(min_seconds, max_seconds));
  worker->callback([&options, &exit_code, worker_options] {
    exit_code = run_reporting_failure([&] {
      worker_options->client = operator_client_options(options);
      set_url_in_use(worker_options->client.url);
      worker_options->prefix = options.prefix;
      worker_options->shards = options.shards;
      return run_demo_worker(*worker_options);
    });
  });
}

}  // namespace distkit::tools
