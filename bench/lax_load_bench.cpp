// LaxCounter's latency under sustained load (issue: every get/set/flush()
// ends within 250 ms): one thread increments 20,000 warm keys nonstop while
// a second thread runs, in turn, a get of a random key (a stale read: the
// key was fetched more than allowed_lag ago), a set and a flush(), each
// timed. allowed_lag 20 ms, command_timeout 500 ms. Prints per operation
// the count, failures, p50, p99 and worst latency, and the flusher's
// counts. Not a timed test: the numbers depend on the machine's load.
// Usage: REDIS_URL=redis://127.0.0.1:6379 distkit_lax_load_bench [seconds (default 10)]
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <functional>
#include <iomanip>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int keys = 20000;
constexpr int warm_batch = 5000;

// One kind of operation (called with the iteration number) and its
// latencies, in microseconds.
struct Timings {
  Timings(const char* operation, std::function<void(std::int64_t)> call)
      : name(operation), run(std::move(call)) {}

  const char* name;
  std::function<void(std::int64_t)> run;
  std::vector<std::int64_t> micros;
  int failures = 0;
  std::string first_failure;

  double percentile_ms(double fraction) {
    if (micros.empty()) return 0;
    const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(micros.size() - 1));
    std::nth_element(micros.begin(), micros.begin() + static_cast<std::ptrdiff_t>(rank),
                     micros.end());
    return static_cast<double>(micros[rank]) / 1000.0;
  }

  void print() {
    const double worst =
        micros.empty() ? 0 : static_cast<double>(*std::ranges::max_element(micros)) / 1000.0;
    std::cout << std::left << std::setw(6) << name << std::right << std::setw(8) << micros.size()
              << " ops  " << std::setw(4) << failures << " failed  p50 " << std::fixed
              << std::setprecision(3) << std::setw(7) << percentile_ms(0.50) << " ms  p99 "
              << std::setw(7) << percentile_ms(0.99) << " ms  worst " << std::setw(7) << worst
              << " ms" << (first_failure.empty() ? "" : "  first failure: " + first_failure)
              << '\n';
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* url = std::getenv("REDIS_URL");
  if (url == nullptr) {
    std::cerr << "REDIS_URL must be set\n";
    return 2;
  }
  const std::chrono::duration<double> run_for(argc > 1 ? std::atof(argv[1]) : 10.0);

  distkit::ClientOptions client_options;
  client_options.url = url;
  client_options.command_timeout = std::chrono::milliseconds(500);
  distkit::CounterOptions options(distkit::RedisKey("distkit_lax_load_bench"),
                                  distkit::Client::connect(client_options));
  options.allowed_lag = std::chrono::milliseconds(20);
  auto counter = distkit::LaxCounter::create(options);
  counter->clear();

  std::vector<distkit::RedisKey> names;
  for (int i = 0; i < keys; ++i) names.emplace_back("k" + std::to_string(i));
  for (int first = 0; first < keys; first += warm_batch) {
    counter->get_all(std::span<const distkit::RedisKey>(names).subspan(first, warm_batch));
  }

  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> increments{0};
  std::thread incrementer([&] {
    std::int64_t done = 0;
    for (int k = 0; !stop.load(std::memory_order_relaxed); k = k + 1 == keys ? 0 : k + 1) {
      counter->inc(names[static_cast<std::size_t>(k)], 1);
      ++done;
    }
    increments = done;
  });

  const distkit::RedisKey set_key("set_only");
  std::mt19937 random(42);
  std::array<Timings, 3> timings{
      Timings("get", [&](std::int64_t) { counter->get(names[random() % keys]); }),
      Timings("set", [&](std::int64_t i) { counter->set(set_key, i); }),
      Timings("flush", [&](std::int64_t) { counter->flush(); })};
  const auto began = Clock::now();
  for (std::int64_t i = 0; Clock::now() - began < run_for; ++i) {
    Timings& timing = timings[static_cast<std::size_t>(i) % timings.size()];
    const auto start = Clock::now();
    try {
      timing.run(i);
    } catch (const distkit::Error& error) {
      if (timing.failures++ == 0) timing.first_failure = error.what();
    }
    timing.micros.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
  }
  stop = true;
  incrementer.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - began).count();

  std::cout << "LaxCounter, " << keys << " keys incremented nonstop by one thread for "
            << std::setprecision(1) << std::fixed << seconds << " s (" << std::setprecision(0)
            << static_cast<double>(increments.load()) / seconds
            << " inc/s); allowed_lag 20 ms, command_timeout 500 ms\n";
  for (Timings& timing : timings) timing.print();
  const distkit::LaxCounterStats stats = counter->stats();
  std::cout << "flush chunks acknowledged " << stats.flushes << " (" << std::setprecision(0)
            << static_cast<double>(stats.flushes) / seconds << "/s), failed "
            << stats.failed_flushes << '\n';
  counter->clear();
  return 0;
}
