// LaxCounter's memory and shutdown with 1,000,000 keys, one counter at a
// time on one Redis:
//  1. resident memory: before, at the peak with 1,000,000 keys touched once
//     (one inc each, flushed), and once the idle keys were reclaimed, with
//     the time that took (target: settled <= 10% of the peak within a few
//     minutes; the idle period is LaxCounter's default unless given);
//  2. the destructor with 1,000,000 dirty keys and a 250 ms command
//     timeout, against its bound of 2 x command_timeout.
// Usage: REDIS_URL=redis://127.0.0.1:6379 distkit_lax_memory_bench
//   [memory|destructor (default: both)]
#include <chrono>
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "counters/lax_counter_impl.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int keys = 1000000;

long resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::shared_ptr<distkit::Client> connect(const std::string& url,
                                         std::chrono::milliseconds timeout) {
  distkit::ClientOptions options;
  options.url = url;
  options.command_timeout = timeout;
  return distkit::Client::connect(options);
}

// Increments every key once, 10,000 keys per inc_all (the first touch of
// each reads Redis).
void touch_all(distkit::LaxCounter& counter) {
  std::vector<distkit::KeyCount> batch;
  for (int i = 0; i < keys; ++i) {
    batch.push_back({distkit::RedisKey("key" + std::to_string(i)), 1});
    if (batch.size() == 10000) {
      counter.inc_all(batch);
      batch.clear();
    }
  }
}

void memory(const std::string& url) {
  const long before = resident_kib();
  auto counter = distkit::LaxCounter::create(
      {distkit::RedisKey("distkit_lax_memory_bench"), connect(url, std::chrono::seconds(60))});
  touch_all(*counter);
  counter->flush();
  const long peak = resident_kib();
  std::cout << "resident before: " << before << " KiB; with 1,000,000 keys: " << peak << " KiB ("
            << (peak - before) * 1024.0 / keys << " B/key)\n";
  auto& slots = distkit::detail::LaxCounterAccess::flusher(*counter).slots();
  const auto idle_since = Clock::now();
  while (slots.size() != 0 && seconds_since(idle_since) < 600) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const double reclaimed_after = seconds_since(idle_since);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the last free pass
  const long settled = resident_kib();
  std::cout << "all keys reclaimed " << reclaimed_after << " s after the last touch; resident "
            << settled << " KiB = " << 100.0 * settled / peak << "% of the peak (target <= 10%)\n";
  counter->clear();
}

// The client outlives the counter, as when counters share it: the
// destructor proper. Then the client's own end, which first lets its I/O
// thread free the counter's slots.
void destructor(const std::string& url) {
  const auto timeout = std::chrono::milliseconds(250);
  auto client = connect(url, timeout);
  auto counter =
      distkit::LaxCounter::create({distkit::RedisKey("distkit_lax_memory_bench_drop"), client});
  touch_all(*counter);  // 1,000,000 dirty keys (a flush may have taken a few)
  auto start = Clock::now();
  counter.reset();
  std::cout << "destructor with 1,000,000 dirty keys, command_timeout 250 ms: "
            << seconds_since(start) * 1000 << " ms (bound " << 2 * timeout.count() << " ms)\n";
  start = Clock::now();
  client.reset();
  std::cout << "then the client's destructor (its I/O thread frees the slots first): "
            << seconds_since(start) * 1000 << " ms\n";
  auto cleanup = distkit::LaxCounter::create(
      {distkit::RedisKey("distkit_lax_memory_bench_drop"), connect(url, std::chrono::seconds(60))});
  cleanup->clear();
}

}  // namespace

int main(int argc, char** argv) {
  const char* url = std::getenv("REDIS_URL");
  if (url == nullptr) {
    std::cerr << "set REDIS_URL\n";
    return 2;
  }
  const std::string only = argc > 1 ? argv[1] : "";
  if (only != "destructor") memory(url);
  if (only != "memory") destructor(url);
}
