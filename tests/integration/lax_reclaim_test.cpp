// LaxCounter's reclaim of idle keys: settled keys untouched for the idle
// period are freed, without losing a concurrent increment; and clear()
// walks its keys in slices that let other work of the client through.
#include <atomic>
#include <boost/asio/post.hpp>
#include <future>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "counter_fixture.hpp"
#include "counters/lax_counter_impl.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;

std::size_t slot_count(LaxCounter& counter) {
  return detail::LaxCounterAccess::flusher(counter).slots().size();
}

// Creates counters whose keys are reclaimed after `idle`, for one test.
class ReclaimAfter {
 public:
  explicit ReclaimAfter(milliseconds idle)
      : saved_(detail::LaxCounterAccess::idle_before_reclaim().exchange(idle)) {}
  ~ReclaimAfter() { detail::LaxCounterAccess::idle_before_reclaim().store(saved_); }

 private:
  milliseconds saved_;
};

std::unordered_map<std::string, std::int64_t> read_hash(const std::string& hash) {
  std::unordered_map<std::string, std::int64_t> values;
  std::istringstream lines(redis_cli(redis_url(), {"HGETALL", hash}));
  for (std::string field, value; std::getline(lines, field) && std::getline(lines, value);) {
    values[field] = std::stoll(value);
  }
  return values;
}

TEST(LaxReclaim, IdleKeysAreFreedAndReadBackFromRedis) {
  const ReclaimAfter reclaim(milliseconds(50));
  const RedisKey prefix = unique_prefix();
  auto counter = LaxCounter::create(CounterOptions(prefix, Client::connect({redis_url()})));
  constexpr int keys = 10000;
  std::vector<KeyCount> batch;
  for (int i = 0; i < keys; ++i) batch.push_back({RedisKey("k" + std::to_string(i)), i});
  counter->inc_all(batch);
  counter->flush();
  ASSERT_EQ(slot_count(*counter), std::size_t{keys});

  ASSERT_TRUE(wait_until([&] { return slot_count(*counter) == 0; }, milliseconds(30000)))
      << slot_count(*counter) << " keys left";
  EXPECT_EQ(counter->get(RedisKey("k7")), 7);  // a first touch again
  EXPECT_EQ(counter->inc(RedisKey("k9999"), 1), 10000);
  counter->flush();
  EXPECT_EQ(redis_cli(redis_url(), {"HGET", prefix.str() + ":lax_counter", "k9999"}), "10000");
  counter->clear();
}

// Threads increment a few keys in bursts with pauses, so keys keep going
// idle and being reclaimed under the increments; not one may be lost.
TEST(LaxReclaim, NoIncrementIsLostToAConcurrentReclaim) {
  const ReclaimAfter reclaim(milliseconds(1));
  const RedisKey prefix = unique_prefix();
  CounterOptions options(prefix, Client::connect({redis_url()}));
  options.allowed_lag = milliseconds(2);
  auto counter = LaxCounter::create(options);
  constexpr int keys = 64, threads = 4;
  std::vector<RedisKey> names;
  for (int i = 0; i < keys; ++i) names.emplace_back("k" + std::to_string(i));
  std::vector<std::atomic<std::int64_t>> counts(keys);

  std::atomic<bool> stop{false};
  std::atomic<std::size_t> fewest_slots{keys};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 random(t);
      while (!stop.load()) {
        const int k = static_cast<int>(random() % keys);
        for (int burst = 0; burst < 50; ++burst) {
          counter->inc(names[k], 1);
          counts[k].fetch_add(1);
        }
        if (random() % 4 == 0)
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 3000));
      }
    });
  }
  const auto end = std::chrono::steady_clock::now() + milliseconds(3000);
  while (std::chrono::steady_clock::now() < end) {
    fewest_slots = std::min(fewest_slots.load(), slot_count(*counter));
    std::this_thread::sleep_for(milliseconds(1));
  }
  stop = true;
  for (auto& worker : workers) worker.join();
  counter->flush();

  EXPECT_LT(fewest_slots.load(), std::size_t{keys}) << "no key was ever reclaimed";
  const auto stored = read_hash(prefix.str() + ":lax_counter");
  for (int k = 0; k < keys; ++k) {
    const auto it = stored.find(names[k].str());
    EXPECT_EQ(it == stored.end() ? 0 : it->second, counts[k].load()) << names[k].str();
  }
  counter->clear();
}

// A StrictCounter get on the same client completes many times over while a
// LaxCounter clears 1,000,000 keys (200,000 under the sanitizers, which
// make the warm-up slow): each get is issued from the previous one's
// completion, so they can only progress between clear's slices.
TEST(LaxReclaim, ClearOfAMillionKeysLetsOtherWorkOfTheClientThrough) {
  const RedisKey prefix = unique_prefix();
  auto client = Client::connect({redis_url()});
  auto lax = LaxCounter::create(CounterOptions(prefix, client));
  auto strict = StrictCounter::create(CounterOptions(RedisKey(prefix.str() + "s"), client));
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr int keys = 200000;
#else
  constexpr int keys = 1000000;
#endif
  std::vector<RedisKey> batch;
  for (int i = 0; i < keys; ++i) {
    batch.emplace_back("k" + std::to_string(i));
    if (batch.size() == 10000) {
      lax->get_all(batch);  // warm
      batch.clear();
    }
  }

  std::atomic<bool> cleared{false};
  std::atomic<int> gets_before_clear{0};
  std::promise<void> chain_done;
  std::function<void()> next_get = [&] {
    strict->async_get(RedisKey("x"), [&](boost::system::error_code error, std::int64_t) {
      if (error || cleared.load()) return chain_done.set_value();
      gets_before_clear.fetch_add(1);
      next_get();
    });
  };
  std::promise<boost::system::error_code> clear_done;
  lax->async_clear([&](boost::system::error_code error) {
    cleared = true;
    clear_done.set_value(error);
  });
  next_get();
  EXPECT_FALSE(clear_done.get_future().get());
  chain_done.get_future().wait();
  EXPECT_GE(gets_before_clear.load(), 10);
}

}  // namespace
}  // namespace distkit::test
