// LaxCounter's "nothing lost, nothing doubled" under load, destruction,
// Redis restarts and stalls longer than the command timeout.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "counter_fixture.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;

std::int64_t hash_sum(const std::string& url, const std::string& hash, int keys) {
  std::int64_t sum = 0;
  for (int i = 0; i < keys; ++i) {
    const std::string value = redis_cli(url, {"HGET", hash, "k" + std::to_string(i)});
    if (!value.empty()) sum += std::stoll(value);
  }
  return sum;
}

TEST(LaxDurability, FourThreadsOfIncrementsOverSixteenKeysLoseNothing) {
  auto client = Client::connect(redis_url());
  const RedisKey prefix = unique_prefix();
  auto counter = LaxCounter::create({prefix, client});
  constexpr int threads = 4, per_thread = 200000, keys = 16;
  std::vector<RedisKey> names;
  for (int i = 0; i < keys; ++i) names.emplace_back("k" + std::to_string(i));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) counter->inc(names[(i + t) % keys], 1);
    });
  }
  for (auto& worker : workers) worker.join();
  counter->flush();
  const std::string hash = prefix.str() + ":lax_counter";
  EXPECT_EQ(hash_sum(redis_url(), hash, keys), std::int64_t{threads} * per_thread);
  for (int i = 0; i < keys; ++i) {
    EXPECT_EQ(redis_cli(redis_url(), {"HGET", hash, "k" + std::to_string(i)}),
              std::to_string(threads * per_thread / keys));
  }
  counter->clear();
}

TEST(LaxDurability, DestroyedRightAfterItsIncrementsDeliversThemAll) {
  auto client = Client::connect(redis_url());
  const RedisKey prefix = unique_prefix();
  {
    CounterOptions options(prefix, client);
    options.allowed_lag = std::chrono::seconds(10);  // only the destructor flushes
    auto counter = LaxCounter::create(options);
    for (int i = 0; i < 5000; ++i) counter->inc(RedisKey("k" + std::to_string(i % 50)), 1);
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(hash_sum(redis_url(), prefix.str() + ":lax_counter", 50), 5000);
  redis_cli(redis_url(), {"DEL", prefix.str() + ":lax_counter"});
}

// Increments from a background thread while `disturb` runs; returns how many
// were accepted.
template <class Disturb>
std::int64_t increment_while(LaxCounter& counter, int keys, Disturb disturb) {
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> accepted{0};
  std::thread producer([&] {
    for (int i = 0; !stop.load(); ++i) {
      counter.inc(RedisKey("k" + std::to_string(i % keys)), 1);
      accepted.fetch_add(1);
      if (i % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  disturb();
  stop = true;
  producer.join();
  return accepted.load();
}

// A LaxCounter on `server` with a short command timeout, warm on `keys`
// keys k0, k1, ... (so that increments need no Redis).
std::shared_ptr<LaxCounter> warm_counter(const RedisServer& server, const char* prefix,
                                         std::chrono::milliseconds command_timeout, int keys,
                                         std::chrono::milliseconds allowed_lag = milliseconds(20)) {
  CounterOptions options(RedisKey(prefix), connect_with_timeout(server.url(), command_timeout));
  options.allowed_lag = allowed_lag;
  auto counter = LaxCounter::create(options);
  for (int i = 0; i < keys; ++i) counter->inc(RedisKey("k" + std::to_string(i)), 0);
  return counter;
}

// Flushes until Redis took everything (retries run in the background).
void drain(LaxCounter& counter) {
  EXPECT_TRUE(eventually([&] { counter.flush(); }, std::chrono::seconds(30)));
}

TEST(LaxDurability, StallLongerThanTheCommandTimeoutCountsEverythingOnce) {
  RedisServer server;
  constexpr int keys = 8;
  auto counter = warm_counter(server, "stall", milliseconds(200), keys);

  const std::int64_t accepted = increment_while(*counter, keys, [&] {
    std::this_thread::sleep_for(milliseconds(100));
    for (int round = 0; round < 2; ++round) {
      redis_cli(server.url(), {"CLIENT", "PAUSE", "700", "WRITE"});
      std::this_thread::sleep_for(milliseconds(900));
    }
  });
  drain(*counter);
  EXPECT_GT(counter->stats().failed_flushes, 0u) << "the stall never hit a flush";
  EXPECT_EQ(hash_sum(server.url(), "stall:lax_counter", keys), accepted);
}

TEST(LaxDurability, RedisRestartWhileIncrementsFlowLosesNothing) {
  RedisServer server({"--appendonly", "yes", "--appendfsync", "always"});
  constexpr int keys = 8;
  auto counter = warm_counter(server, "restart", milliseconds(300), keys);

  const std::int64_t accepted = increment_while(*counter, keys, [&] {
    std::this_thread::sleep_for(milliseconds(200));
    server.restart();
    std::this_thread::sleep_for(milliseconds(300));
  });
  drain(*counter);
  EXPECT_EQ(hash_sum(server.url(), "restart:lax_counter", keys), accepted);
}

TEST(LaxDurability, FlushFailsWhileRedisIsDownAndKeepsTheDeltas) {
  RedisServer server;
  // Only explicit flushes, so that the deltas are still pending when Redis goes.
  auto counter = warm_counter(server, "down", milliseconds(200), 1, std::chrono::hours(1));
  counter->inc(RedisKey("k0"), 5);
  server.stop();
  try {
    counter->flush();
    FAIL() << "flush succeeded with Redis down";
  } catch (const Error& e) {
    EXPECT_TRUE(e.code() == Errc::connection || e.code() == Errc::timeout) << e.what();
  }
  counter->inc(RedisKey("k0"), 2);  // still accepted
  EXPECT_EQ(counter->stats().pending_total, 7);
  server.start();  // empty: only what the counter kept can get there
  drain(*counter);
  EXPECT_EQ(redis_cli(server.url(), {"HGET", "down:lax_counter", "k0"}), "7");
}

TEST(LaxDurability, DestructorReportsWhatItCouldNotDeliverWithinItsBound) {
  RedisServer server;
  std::mutex mutex;
  std::vector<std::string> messages;
  const LogHandler previous = set_log_handler([&](LogLevel, std::string_view message) {
    std::lock_guard lock(mutex);
    messages.emplace_back(message);
  });
  constexpr auto command_timeout = milliseconds(200);
  auto counter = warm_counter(server, "undelivered", command_timeout, 2, std::chrono::hours(1));
  counter->inc(RedisKey("k0"), 3);
  counter->inc(RedisKey("k1"), 4);
  server.stop();
  const auto start = std::chrono::steady_clock::now();
  counter.reset();
  const auto took = std::chrono::steady_clock::now() - start;
  set_log_handler(previous);
  EXPECT_LT(took, 2 * command_timeout + milliseconds(1000));  // the documented bound, plus slack
  std::lock_guard lock(mutex);
  const bool reported = std::any_of(messages.begin(), messages.end(), [](const std::string& m) {
    return m.find("7 undelivered over 2 keys") != std::string::npos;
  });
  EXPECT_TRUE(reported) << testing::PrintToString(messages);
}

TEST(LaxDurability, ConcurrentFirstTouchesOfAKeyReadRedisOnce) {
  RedisServer server;
  auto counter = warm_counter(server, "first", milliseconds(1000), 0, std::chrono::hours(1));
  redis_cli(server.url(), {"HSET", "first:lax_counter", "k", "100"});
  redis_cli(server.url(), {"CONFIG", "RESETSTAT"});
  constexpr int threads = 8;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] { counter->inc(RedisKey("k"), 1); });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(counter->get(RedisKey("k")), 100 + threads);
  const std::string stats = redis_cli(server.url(), {"INFO", "commandstats"});
  EXPECT_NE(stats.find("cmdstat_hmget:calls=1,"), std::string::npos) << stats;
}

// set and set_all are one plain HSET each (no script), with the pending
// delta they override gone.
TEST(LaxDurability, SetIsOnePlainHset) {
  RedisServer server;
  auto counter = warm_counter(server, "plain", milliseconds(1000), 0, std::chrono::hours(1));
  EXPECT_EQ(counter->inc(RedisKey("k"), 5), 5);  // pending
  redis_cli(server.url(), {"CONFIG", "RESETSTAT"});
  EXPECT_EQ(counter->set(RedisKey("k"), 7), 7);
  EXPECT_EQ(counter->set_all(std::vector<KeyCount>{{RedisKey("a"), 1}, {RedisKey("a"), 2}}),
            (std::vector<std::int64_t>{1, 2}));
  const std::string stats = redis_cli(server.url(), {"INFO", "commandstats"});
  EXPECT_NE(stats.find("cmdstat_hset:calls=2,"), std::string::npos) << stats;
  EXPECT_EQ(stats.find("cmdstat_eval"), std::string::npos) << stats;
  counter->flush();
  EXPECT_EQ(redis_cli(server.url(), {"HGET", "plain:lax_counter", "k"}), "7");
  EXPECT_EQ(redis_cli(server.url(), {"HGET", "plain:lax_counter", "a"}), "2");
  EXPECT_EQ(counter->get(RedisKey("k")), 7);
}

}  // namespace
}  // namespace distkit::test
