#include "instance_demo.hpp"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "child_process.hpp"
#include "exit_codes.hpp"
#include "redis_target.hpp"

namespace distkit::tools {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const RedisKey demo_key("connections");
constexpr milliseconds demo_threshold(2000);

std::shared_ptr<StrictInstanceAwareCounter> demo_counter(const ClientOptions& client,
                                                         const std::string& prefix) {
  InstanceAwareCounterOptions options(RedisKey(prefix), Client::connect(client));
  options.dead_instance_threshold = demo_threshold;
  return StrictInstanceAwareCounter::create(options);
}

// Worker i holds 10 * (i + 1) connections until it is killed.
std::int64_t slice_of(int worker) {
  return 10 * (worker + 1);
}

struct Worker {
  ChildProcess process;
  std::int64_t slice;
};

// Reads the worker's "ready" line, printed once its slice is in Redis.
void wait_ready(const Worker& worker) {
  char c = 0;
  while (::read(worker.process.output, &c, 1) == 1 && c != '\n') {
  }
  if (c != '\n') throw std::runtime_error("an instance demo worker did not start");
}

// The URL comes through $REDIS_URL, the --tls-* options on the command line.
int run_worker(const GlobalOptions& global, std::int64_t slice) {
  auto counter = demo_counter(operator_client_options(global), global.prefix);
  counter->set_on_instance(demo_key, slice);
  std::cout << "ready" << std::endl;
  for (;;) pause();  // the heartbeat runs until the process is killed
}

}  // namespace

int run_instance_demo(const GlobalOptions& global, const RedisTarget& target, int workers,
                      double seconds) {
  setenv("REDIS_URL", target.url().c_str(), 1);  // not on the command line: passwords
  const std::string prefix = global.prefix + "_instance_demo_" + std::to_string(getpid());
  auto observer = demo_counter(target.client_options(), prefix);
  observer->clear();
  std::cerr << "distkit demo --instance-aware: " << workers
            << " processes hold 10, 20, ... connections each on " << target.description()
            << "; dead-instance threshold " << demo_threshold.count() << " ms\n";

  const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  std::vector<Worker> running;
  std::int64_t expected = 0;
  for (int i = 0; i < workers; ++i) {
    std::vector<std::string> argv{
        self, "--prefix", prefix, "instance-demo-worker", "--slice", std::to_string(slice_of(i))};
    const auto tls = tls_arguments(target.client_options().tls);
    argv.insert(argv.end(), tls.begin(), tls.end());
    running.push_back(
        {spawn(argv, ChildOutput::pipe, {}, ChildLifetime::ends_with_caller), slice_of(i)});
    expected += slice_of(i);
  }
  for (const Worker& worker : running) wait_ready(worker);
  auto report = [&](const char* what) {
    std::cout << what << ": cumulative " << observer->get(demo_key).cumulative << '\n';
  };
  report("all workers up");
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds / 2));

  Worker& victim = running.back();
  std::cout << "SIGKILL worker " << workers << " (slice " << victim.slice << ")\n";
  ::kill(victim.process.pid, SIGKILL);
  wait_for_exit(victim.process.pid);
  expected -= victim.slice;
  const auto killed = Clock::now();
  std::int64_t cumulative = observer->get(demo_key).cumulative;
  while (cumulative != expected && Clock::now() - killed < 5 * demo_threshold) {
    std::this_thread::sleep_for(milliseconds(100));
    cumulative = observer->get(demo_key).cumulative;
  }
  const auto after = std::chrono::duration_cast<milliseconds>(Clock::now() - killed).count();
  std::cout << "after " << after << " ms: cumulative " << cumulative << " (expected " << expected
            << ")\n";

  for (std::size_t i = 0; i + 1 < running.size(); ++i) {
    ::kill(running[i].process.pid, SIGKILL);
    wait_for_exit(running[i].process.pid);
  }
  observer->clear();
  return cumulative == expected ? exit_ok : exit_failure;
}

void add_instance_demo_worker(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto slice = std::make_shared<std::int64_t>(0);
  auto* worker = app.add_subcommand("instance-demo-worker", "one process of the instance demo");
  worker->group("");  // hidden from --help
  worker->add_option("--slice", *slice)->required();
  worker->callback([&options, &exit_code, slice] {
    exit_code = run_reporting_failure([&] { return run_worker(options, *slice); });
  });
}

}  // namespace distkit::tools
