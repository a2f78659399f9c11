// Sharded counters (CounterOptions::shards), run against one flavour (the
// target defines DISTKIT_FLAVOUR) with 1, 3 and 16 shards: where each key
// lands, batches split per shard, per-shard atomicity, clear, exactness and,
// for LaxCounter, exactly-once flushes per shard.
#include <algorithm>
#include <atomic>
#include <boost/asio/use_future.hpp>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <type_traits>

#include "counter_fixture.hpp"
#include "counters/lax_counter_impl.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using Flavour = DISTKIT_FLAVOUR;
constexpr bool lax = std::is_same_v<Flavour, LaxCounter>;
constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t beyond_double = 9007199254740993;  // 2^53 + 1

void settle(Counter& counter) {
  if (auto* lax_counter = dynamic_cast<LaxCounter*>(&counter)) lax_counter->flush();
}

// Every key of `url` matching `pattern`, by SCAN.
std::set<std::string> scan(const std::string& url, const std::string& pattern) {
  std::set<std::string> found;
  std::string cursor = "0";
  do {
    std::istringstream reply(redis_cli(url, {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}));
    std::getline(reply, cursor);
    for (std::string key; std::getline(reply, key);) {
      if (!key.empty()) found.insert(key);
    }
  } while (cursor != "0" && !cursor.empty());
  return found;
}

class ShardedTest : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    client = Client::connect(redis_url());
    counter = make_counter<Flavour>(prefix, client, shards());
  }
  void TearDown() override {
    if (counter) counter->clear();
  }

  int shards() const { return GetParam(); }
  std::string hash_for(const std::string& key) const {
    return hash_of_key<Flavour>(prefix, shards(), key);
  }
  std::size_t shard_of(const std::string& key) const { return detail::shard_of_key(key, shards()); }
  std::string redis_value(const std::string& key) const {
    return redis_cli(redis_url(), {"HGET", hash_for(key), key});
  }
  std::vector<std::string> hashes() const { return hashes_of<Flavour>(prefix, shards()); }
  // "<stem><i>" for i = 0, 1, ... whose shard `wanted` accepts.
  template <class Wanted>
  std::string key_where(const std::string& stem, Wanted wanted) const {
    for (int i = 0;; ++i) {
      std::string key = stem + std::to_string(i);
      if (wanted(shard_of(key))) return key;
    }
  }
  // Keys "key-0", "key-1", ... until every shard has three.
  std::vector<std::string> spread_keys() const {
    std::vector<std::string> keys;
    std::vector<int> per_shard(shards(), 0);
    for (int i = 0; std::ranges::any_of(per_shard, [](int n) { return n < 3; }); ++i) {
      keys.push_back("key-" + std::to_string(i));
      ++per_shard[shard_of(keys.back())];
    }
    return keys;
  }

  std::shared_ptr<Client> client;
  RedisKey prefix = unique_prefix();
  std::shared_ptr<Flavour> counter;
};

INSTANTIATE_TEST_SUITE_P(Shards, ShardedTest, testing::Values(1, 3, 16),
                         [](const testing::TestParamInfo<int>& shard_count) {
                           return std::to_string(shard_count.param);
                         });

TEST_P(ShardedTest, EveryOperationLandsInItsShardAndReadsBackExactly) {
  const std::vector<std::string> names = spread_keys();
  std::map<std::string, std::int64_t> model;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const RedisKey key(names[i]);
    const auto n = static_cast<std::int64_t>(i);
    EXPECT_EQ(counter->inc(key, n + 1), n + 1);
    EXPECT_EQ(counter->dec(key, 3), n - 2);
    EXPECT_EQ(counter->inc_if(key, CounterComparator::eq(n - 2), 10),
              (UpdateResult{n + 8, n - 2, true}));
    EXPECT_EQ(counter->set_if(key, CounterComparator::lt(0), 0),
              (UpdateResult{n + 8, n + 8, false}));
    model[names[i]] = n + 8;
    if (i % 5 == 0) model[names[i]] = counter->set(key, beyond_double + n);
    if (i % 7 == 3) {
      EXPECT_EQ(counter->del(key), model[names[i]]);
      model.erase(names[i]);
    }
  }
  std::set<std::size_t> used;
  settle(*counter);
  for (const std::string& name : names) {
    const auto it = model.find(name);
    EXPECT_EQ(counter->get(RedisKey(name)), it == model.end() ? 0 : it->second) << name;
    EXPECT_EQ(redis_value(name), it == model.end() ? "" : std::to_string(it->second)) << name;
    used.insert(shard_of(name));
  }
  EXPECT_EQ(used.size(), static_cast<std::size_t>(shards())) << "the keys cover every shard";
  // Every field is in its own shard's hash and nowhere else.
  EXPECT_EQ(field_count(redis_url(), hashes()), std::to_string(model.size()));
  if (shards() > 1) {
    EXPECT_EQ(redis_cli(redis_url(),
                        {"EXISTS", prefix.str() + (lax ? ":lax_counter" : ":strict_counter")}),
              "0")
        << "a sharded counter never writes the unsharded hash";
  }
}

TEST_P(ShardedTest, BatchesAcrossShardsKeepInputOrderAndApplyDuplicatesInTurn) {
  // Three keys in three different shards where there are that many.
  const std::string a = key_where("a", [](std::size_t) { return true; });
  const std::string b =
      key_where("b", [&](std::size_t s) { return shards() == 1 || s != shard_of(a); });
  const std::string c = key_where(
      "c", [&](std::size_t s) { return shards() < 3 || (s != shard_of(a) && s != shard_of(b)); });
  const RedisKey ka(a), kb(b), kc(c);
  const std::vector<KeyCount> incs{{ka, 1}, {kb, 2}, {ka, 3}, {kc, 4}, {kb, 5}, {ka, -10}};
  EXPECT_EQ(counter->inc_all(incs), (std::vector<std::int64_t>{1, 2, 4, 4, 7, -6}));
  const std::vector<RedisKey> reads{kc, ka, RedisKey("missing"), kb, kc};
  EXPECT_EQ(counter->get_all(reads), (std::vector<std::int64_t>{4, -6, 0, 7, 4}));
  const std::vector<KeyCount> sets{{kb, 10}, {ka, 20}, {kb, 30}, {kc, beyond_double}};
  EXPECT_EQ(counter->set_all(sets), (std::vector<std::int64_t>{10, 20, 30, beyond_double}));
  const std::vector<ConditionalUpdate> conditional_incs{
      {ka, CounterComparator::eq(20), 1},
      {kc, CounterComparator::gt(beyond_double - 1), 1},
      {ka, CounterComparator::eq(20), 1},
      {kb, CounterComparator::nil(), 1}};
  EXPECT_EQ(counter->inc_all_if(conditional_incs),
            (std::vector<UpdateResult>{{21, 20, true},
                                       {beyond_double + 1, beyond_double, true},
                                       {21, 21, false},
                                       {31, 30, true}}));
  const std::vector<ConditionalUpdate> conditional_sets{
      {kc, CounterComparator::eq(beyond_double + 1), 5},
      {ka, CounterComparator::eq(21), 100},
      {kc, CounterComparator::eq(beyond_double + 1), 6},
      {ka, CounterComparator::eq(100), 200}};
  EXPECT_EQ(counter->set_all_if(conditional_sets),
            (std::vector<UpdateResult>{
                {5, beyond_double + 1, true}, {100, 21, true}, {5, 5, false}, {200, 100, true}}));
  auto async_reads = counter->async_get_all(reads, boost::asio::use_future);
  EXPECT_EQ(async_reads.get(), (std::vector<std::int64_t>{5, 200, 0, 31, 5}));
  settle(*counter);
  EXPECT_EQ(redis_value(a), "200");
  EXPECT_EQ(redis_value(b), "31");
  EXPECT_EQ(redis_value(c), "5");
}

// A batch is atomic per shard: the shard whose part overflows is left
// unchanged; with several shards the other shards' parts apply.
TEST_P(ShardedTest, AnOverflowingShardIsUnchangedWhileTheOthersApply) {
  const std::string full = key_where("full", [](std::size_t) { return true; });
  const std::string same = key_where("same", [&](std::size_t s) { return s == shard_of(full); });
  const std::string other =
      key_where("other", [&](std::size_t s) { return shards() == 1 || s != shard_of(full); });
  const RedisKey kfull(full), ksame(same), kother(other);
  const std::string other_applied = shards() > 1 ? "8" : "";
  if constexpr (lax) {
    // LaxCounter's increments are local and all-or-nothing; its immediate
    // batches go to Redis per shard. An override overflows when Redis's
    // value plus this process's pending delta leaves int64.
    CounterOptions options(prefix, client);
    options.shards = shards();
    options.allowed_lag = std::chrono::hours(1);
    auto slow = LaxCounter::create(options);
    redis_cli(redis_url(), {"HSET", hash_for(full), full, std::to_string(max - 5)});
    slow->inc(kfull, 5);                                             // pending: 5
    redis_cli(redis_url(), {"HINCRBY", hash_for(full), full, "5"});  // another process
    const std::vector<ConditionalUpdate> sets{{ksame, CounterComparator::eq(0), 7},
                                              {kother, CounterComparator::eq(0), 8},
                                              {kfull, CounterComparator::ne(0), 1}};
    EXPECT_DISTKIT_ERROR(slow->set_all_if(sets), Errc::overflow);
    EXPECT_EQ(redis_value(same), "") << "the overflowing shard is unchanged";
    EXPECT_EQ(redis_value(full), std::to_string(max));
    EXPECT_EQ(redis_value(other), other_applied);
    const std::vector<KeyCount> incs{{kother, 1}, {kfull, 1}};
    EXPECT_DISTKIT_ERROR(slow->inc_all(incs), Errc::overflow);
    EXPECT_EQ(slow->get(kother), shards() > 1 ? 8 : 0) << "nothing of a failed inc_all is kept";
    slow->clear();
  } else {
    counter->set(kfull, max);
    const std::vector<KeyCount> incs{{ksame, 1}, {kother, 8}, {kfull, 1}};
    EXPECT_DISTKIT_ERROR(counter->inc_all(incs), Errc::overflow);
    EXPECT_EQ(redis_value(same), "") << "the overflowing shard is unchanged";
    EXPECT_EQ(redis_value(full), std::to_string(max));
    EXPECT_EQ(redis_value(other), other_applied);
    const std::vector<ConditionalUpdate> conditional{{ksame, CounterComparator::ge(0), 1},
                                                     {kother, CounterComparator::ge(0), 1},
                                                     {kfull, CounterComparator::ge(0), 1}};
    EXPECT_DISTKIT_ERROR(counter->inc_all_if(conditional), Errc::overflow);
    EXPECT_EQ(redis_value(same), "");
    EXPECT_EQ(redis_value(full), std::to_string(max));
    EXPECT_EQ(redis_value(other), shards() > 1 ? "9" : "");
  }
}

TEST_P(ShardedTest, ClearRemovesEveryShardAndItsAuxiliaryKeys) {
  const std::vector<std::string> names = spread_keys();
  for (const std::string& name : names) counter->inc(RedisKey(name), 1);
  std::string aside;
  if constexpr (lax) {
    // A delta Redis can never take goes to its shard's set-aside list.
    const std::string junk = names.front();
    auto& lax_counter = dynamic_cast<LaxCounter&>(*counter);
    lax_counter.flush();
    redis_cli(redis_url(), {"HSET", hash_for(junk), junk, "abc"});
    lax_counter.inc(RedisKey(junk), 1);
    lax_counter.flush();
    EXPECT_EQ(lax_counter.stats().set_aside, 1u);
    const std::string tag =
        shards() == 1 ? "{" + prefix.str() + ":lax_counter}" : hashes()[shard_of(junk)];
    aside = tag + ":set_aside";
    EXPECT_EQ(redis_cli(redis_url(), {"LRANGE", aside, "0", "-1"}), "1 " + junk);
    // One flush record per shard, each in its shard's slot.
    std::set<std::string> records =
        scan(redis_url(), "{" + prefix.str() + ":lax_counter*}:flushed:*");
    EXPECT_EQ(records.size(), static_cast<std::size_t>(shards()));
  }
  std::set<std::string> before = scan(redis_url(), "*" + prefix.str() + "*");
  EXPECT_GE(before.size(), static_cast<std::size_t>(shards()));
  counter->clear();
  EXPECT_EQ(scan(redis_url(), "*" + prefix.str() + "*"), std::set<std::string>{});
  for (const std::string& name : names) EXPECT_EQ(counter->get(RedisKey(name)), 0);
}

TEST_P(ShardedTest, ExactBeyondTwoToThe53InEveryShard) {
  const std::vector<std::string> names = spread_keys();
  std::vector<KeyCount> sets;
  std::vector<RedisKey> keys;
  for (std::size_t i = 0; i < names.size(); ++i) {
    keys.emplace_back(names[i]);
    sets.push_back({keys.back(), beyond_double + static_cast<std::int64_t>(i)});
  }
  counter->set_all(sets);
  std::vector<ConditionalUpdate> bumps;
  for (const RedisKey& key : keys) bumps.push_back({key, CounterComparator::ge(beyond_double), 2});
  const auto results = counter->inc_all_if(bumps);
  const auto values = counter->get_all(keys);
  settle(*counter);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::int64_t expected = beyond_double + static_cast<std::int64_t>(i) + 2;
    EXPECT_EQ(results[i], (UpdateResult{expected, expected - 2, true}));
    EXPECT_EQ(values[i], expected);
    EXPECT_EQ(redis_value(names[i]), std::to_string(expected));
  }
}

// LaxCounter: several threads increment keys of every shard while Redis
// stalls longer than the command timeout, so chunks time out after Redis
// took them and are resent: each shard's records make every chunk count
// exactly once.
TEST_P(ShardedTest, LaxFlushesCountExactlyOncePerShardUnderThreadsAndStalls) {
  if constexpr (!lax) GTEST_SKIP() << "LaxCounter only";
  RedisServer server;
  CounterOptions options(prefix,
                         connect_with_timeout(server.url(), std::chrono::milliseconds(200)));
  options.shards = shards();
  options.allowed_lag = std::chrono::milliseconds(5);
  auto lax_counter = LaxCounter::create(options);
  const std::vector<std::string> names = spread_keys();
  std::vector<RedisKey> keys(names.begin(), names.end());
  for (const RedisKey& key : keys) lax_counter->inc(key, 0);  // warm: increments need no Redis
  constexpr int threads = 4;
  std::vector<std::atomic<std::int64_t>> accepted(keys.size());
  std::atomic<bool> stop{false};
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (std::size_t i = t; !stop.load(); ++i) {
        lax_counter->inc(keys[i % keys.size()], 1);
        accepted[i % keys.size()].fetch_add(1);
        if (i % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int round = 0; round < 2; ++round) {
    redis_cli(server.url(), {"CLIENT", "PAUSE", "700", "WRITE"});
    std::this_thread::sleep_for(std::chrono::milliseconds(900));
  }
  stop = true;
  for (auto& producer : producers) producer.join();
  EXPECT_TRUE(eventually([&] { lax_counter->flush(); }, std::chrono::seconds(30)));
  EXPECT_GT(lax_counter->stats().failed_flushes, 0u) << "the stall never hit a flush";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(redis_cli(server.url(), {"HGET", hash_for(names[i]), names[i]}),
              std::to_string(accepted[i].load()))
        << names[i];
  }
  EXPECT_EQ(scan(server.url(), "{" + prefix.str() + ":lax_counter*}:flushed:*").size(),
            static_cast<std::size_t>(shards()));
}

// LaxCounter: set/set_all are one plain HSET per shard they touch (no
// script), with the pending deltas they override gone.
TEST_P(ShardedTest, LaxSetIsOnePlainHsetPerShard) {
  if constexpr (!lax) GTEST_SKIP() << "LaxCounter only";
  RedisServer server;
  CounterOptions options(prefix, Client::connect({server.url()}));
  options.shards = shards();
  options.allowed_lag = std::chrono::hours(1);
  auto lax_counter = LaxCounter::create(options);
  const std::vector<std::string> names = spread_keys();
  std::vector<KeyCount> sets;
  for (std::size_t i = 0; i < names.size(); ++i) {
    lax_counter->inc(RedisKey(names[i]), 5);  // pending
    sets.push_back({RedisKey(names[i]), static_cast<std::int64_t>(i)});
  }
  redis_cli(server.url(), {"CONFIG", "RESETSTAT"});
  EXPECT_EQ(lax_counter->set(RedisKey(names.front()), 7), 7);
  lax_counter->set_all(sets);
  const std::string stats = redis_cli(server.url(), {"INFO", "commandstats"});
  EXPECT_NE(stats.find("cmdstat_hset:calls=" + std::to_string(1 + shards()) + ","),
            std::string::npos)
      << stats;
  EXPECT_EQ(stats.find("cmdstat_eval"), std::string::npos) << stats;
  lax_counter->flush();
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(redis_cli(server.url(), {"HGET", hash_for(names[i]), names[i]}), std::to_string(i));
    EXPECT_EQ(lax_counter->get(RedisKey(names[i])), static_cast<std::int64_t>(i));
  }
}

// LaxCounter: idle keys of every shard are reclaimed, and a key's next use
// reads it back from its own shard.
TEST_P(ShardedTest, LaxIdleKeysOfEveryShardAreReclaimedAndReadBack) {
  if constexpr (!lax) GTEST_SKIP() << "LaxCounter only";
  auto& idle = detail::LaxCounterAccess::idle_before_reclaim();
  const auto saved = idle.exchange(std::chrono::milliseconds(50));
  CounterOptions options(prefix, client);
  options.shards = shards();
  auto lax_counter = LaxCounter::create(options);
  idle.store(saved);
  const std::vector<std::string> names = spread_keys();
  std::vector<KeyCount> incs;
  for (std::size_t i = 0; i < names.size(); ++i) {
    incs.push_back({RedisKey(names[i]), static_cast<std::int64_t>(i)});
  }
  lax_counter->inc_all(incs);
  lax_counter->flush();
  auto& slots = detail::LaxCounterAccess::flusher(*lax_counter).slots();
  ASSERT_TRUE(wait_until([&] { return slots.size() == 0; }, std::chrono::seconds(30)))
      << slots.size() << " keys left";
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(lax_counter->inc(RedisKey(names[i]), 1), static_cast<std::int64_t>(i) + 1);
  }
  lax_counter->flush();
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(redis_value(names[i]), std::to_string(i + 1));
  }
  lax_counter->clear();
}

}  // namespace
}  // namespace distkit::test
