// LaxCounter under sustained load: many warm keys incremented nonstop from
// several threads while other threads read, set and flush. Bounded (a few
// seconds); asserts liveness, fairness and exact totals, not speed.
#include <atomic>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "counter_fixture.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;
using clock = std::chrono::steady_clock;

// field -> value of a hash, read by redis-cli (an independent observer).
std::unordered_map<std::string, std::int64_t> read_hash(const std::string& url,
                                                        const std::string& hash) {
  std::unordered_map<std::string, std::int64_t> values;
  std::istringstream lines(redis_cli(url, {"HGETALL", hash}));
  for (std::string field, value; std::getline(lines, field) && std::getline(lines, value);) {
    values[field] = std::stoll(value);
  }
  return values;
}

TEST(LaxLoad, NonstopIncrementsOnManyKeysStayLiveFairAndExact) {
  RedisServer server;
  CounterOptions options(RedisKey("load"), connect_with_timeout(server.url(), milliseconds(500)));
  options.allowed_lag = milliseconds(20);
  auto counter = LaxCounter::create(options);
  const std::string hash = "load:lax_counter";

  constexpr int keys = 20000, incrementers = 2;
  std::vector<RedisKey> names;
  for (int i = 0; i < keys; ++i) names.emplace_back("k" + std::to_string(i));
  for (int first = 0; first < keys; first += 5000) {
    counter->get_all(std::span<const RedisKey>(names).subspan(first, 5000));  // warm
  }
  std::vector<std::atomic<std::int64_t>> counts(keys);

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < incrementers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; !stop.load(std::memory_order_relaxed); i += incrementers) {
        const int k = i % keys;
        counter->inc(names[k], 1);
        counts[k].fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Immediate operations, stale reads and flushes alongside; every one must
  // succeed (a failure would be a timeout behind the flusher).
  std::atomic<int> operations{0};
  std::atomic<std::int64_t> worst_us{0};
  std::atomic<std::int64_t> last_set{0};
  std::string failure;
  std::mutex failure_mutex;
  const RedisKey set_key("set_only");
  threads.emplace_back([&] {
    std::mt19937 random(42);
    for (std::int64_t i = 1; !stop.load(); ++i) {
      const auto start = clock::now();
      try {
        switch (i % 3) {
          case 0:
            counter->get(names[random() % keys]);
            break;
          case 1:
            counter->set(set_key, i);
            last_set = i;
            break;
          default:
            counter->flush();
        }
      } catch (const Error& e) {
        std::lock_guard lock(failure_mutex);
        if (failure.empty()) failure = e.what();
      }
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start).count();
      if (us > worst_us) worst_us = us;
      ++operations;
    }
  });

  // Fairness: whatever was counted at a moment is in Redis a while later,
  // for every key (no key starves behind re-dirtied ones).
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(milliseconds(300));
    std::vector<std::int64_t> snapshot(keys);
    for (int k = 0; k < keys; ++k) snapshot[k] = counts[k].load(std::memory_order_relaxed);
    std::this_thread::sleep_for(milliseconds(700));  // about 30 flush periods
    const auto in_redis = read_hash(server.url(), hash);
    int behind = 0;
    for (int k = 0; k < keys; ++k) {
      auto it = in_redis.find(names[k].str());
      if ((it == in_redis.end() ? 0 : it->second) < snapshot[k]) ++behind;
    }
    EXPECT_EQ(behind, 0) << "round " << round;
  }
  stop = true;
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(failure, "");
  EXPECT_GT(operations.load(), 10);
  RecordProperty("operations", operations.load());
  RecordProperty("worst_operation_us", static_cast<int>(worst_us.load()));
  std::cout << "immediate operations, reads and flushes: " << operations.load()
            << ", worst: " << worst_us.load() << " us\n";

  counter->flush();
  const auto in_redis = read_hash(server.url(), hash);
  std::int64_t total = 0;
  int wrong = 0;
  for (int k = 0; k < keys; ++k) {
    auto it = in_redis.find(names[k].str());
    if ((it == in_redis.end() ? 0 : it->second) != counts[k].load()) ++wrong;
    total += counts[k].load();
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_GT(total, keys);
  EXPECT_EQ(in_redis.at(set_key.str()), last_set.load());
}

}  // namespace
}  // namespace distkit::test
