#include "demo_worker.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <distkit/distkit.hpp>
#include <iostream>
#include <thread>

#include "counters/shard_layout.hpp"
#include "demo_report.hpp"
#include "exit_codes.hpp"

namespace distkit::tools {
namespace {

using Clock = std::chrono::steady_clock;

// A lax increment takes tens of nanoseconds, about what reading the clock
// twice costs; timing one in this many keeps the measurement from doubling
// the work.
constexpr std::uint64_t lax_timing_interval = 64;
constexpr std::chrono::milliseconds progress_interval{200};
constexpr int lowest_priority = 19;  // nice value

void send(const std::string& lines) {
  std::cout << lines << std::flush;
}

}  // namespace

std::vector<RedisKey> demo_keys(int shards) {
  if (shards == 1) return {RedisKey("hits")};
  std::vector<std::string> keys(static_cast<std::size_t>(shards));
  std::size_t found = 0;
  for (int i = 0; found < keys.size(); ++i) {
    std::string key = "hits_" + std::to_string(i);
    std::string& slot = keys[detail::shard_of_key(key, shards)];
    if (slot.empty()) {
      slot = std::move(key);
      ++found;
    }
  }
  return {keys.begin(), keys.end()};
}

int run_demo_worker(const DemoWorkerOptions& options) {
  auto client = Client::connect(options.client);
  CounterOptions counter_options(RedisKey(options.prefix), client);
  counter_options.shards = options.shards;
  auto strict = StrictCounter::create(counter_options);
  auto lax = LaxCounter::create(counter_options);
  const std::vector<RedisKey> keys = demo_keys(options.shards);
  // The first touch reads Redis; what follows is the warm path.
  for (const RedisKey& key : keys) lax->inc(key, 0);
  // Each thread takes the keys in turn, without a division: a warm lax
  // increment takes nanoseconds.
  const auto next_key = [&keys](std::size_t& turn) -> const RedisKey& {
    const RedisKey& key = keys[turn];
    if (++turn == keys.size()) turn = 0;
    return key;
  };

  WorkerTally tally;
  std::atomic<std::uint64_t> strict_incs{0}, lax_incs{0};
  const auto deadline = Clock::now() + std::chrono::duration<double>(options.seconds);
  std::thread strict_thread([&] {
    std::size_t turn = 0;
    while (Clock::now() < deadline) {
      const auto began = Clock::now();
      strict->inc(next_key(turn), 1);
      tally.strict_latency.record(Clock::now() - began);
      strict_incs.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::thread lax_thread([&] {
    // A warm lax increment never waits, so this thread keeps a core busy.
    // At the lowest priority it does not starve the strict callers and
    // Redis of CPU on a small machine.
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), lowest_priority);
    std::size_t turn = 0;
    while (Clock::now() < deadline) {
      const auto began = Clock::now();
      lax->inc(next_key(turn), 1);
      tally.lax_latency.record(Clock::now() - began);
      for (std::uint64_t i = 1; i < lax_timing_interval; ++i) lax->inc(next_key(turn), 1);
      lax_incs.fetch_add(lax_timing_interval, std::memory_order_relaxed);
    }
  });
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(progress_interval);
    send(progress_line(strict_incs.load(), lax_incs.load()));
  }
  strict_thread.join();
  lax_thread.join();

  lax->flush();  // "finished" promises that every lax increment is in Redis
  tally.strict_incs = strict_incs.load();
  tally.lax_incs = lax_incs.load();
  send(final_lines(tally));
  return exit_ok;
}

}  // namespace distkit::tools
