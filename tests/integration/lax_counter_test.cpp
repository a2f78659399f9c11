// LaxCounter behaviour beyond the shared Counter contract: buffering,
// flushing, immediate overrides and local views.
#include <algorithm>
#include <sstream>
#include <thread>

#include "counter_fixture.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;
using LaxTest = CounterTest<LaxCounter>;

std::shared_ptr<LaxCounter> lax_with_lag(const RedisKey& prefix, std::shared_ptr<Client> client,
                                         milliseconds lag) {
  CounterOptions options(prefix, std::move(client));
  options.allowed_lag = lag;
  return LaxCounter::create(options);
}

TEST(LaxOptions, NonPositiveAllowedLagIsInvalidArgument) {
  auto client = Client::connect(redis_url());
  EXPECT_DISTKIT_ERROR(lax_with_lag(RedisKey("p"), client, milliseconds(0)),
                       Errc::invalid_argument);
  EXPECT_DISTKIT_ERROR(lax_with_lag(RedisKey("p"), client, milliseconds(-5)),
                       Errc::invalid_argument);
}

TEST_F(LaxTest, IncrementsAreBufferedUntilFlushed) {
  auto slow = lax_with_lag(*prefix, client, std::chrono::hours(1));
  const RedisKey key("k");
  EXPECT_EQ(slow->inc(key, 2), 2);
  EXPECT_EQ(slow->inc(key, 3), 5);
  EXPECT_EQ(slow->get(key), 5);
  EXPECT_EQ(redis_value("k"), "");
  const LaxCounterStats before = slow->stats();
  EXPECT_EQ(before.pending_keys, 1u);
  EXPECT_EQ(before.pending_total, 5);
  slow->flush();
  EXPECT_EQ(redis_value("k"), "5");
  const LaxCounterStats after = slow->stats();
  EXPECT_EQ(after.pending_keys, 0u);
  EXPECT_EQ(after.pending_total, 0);
  EXPECT_EQ(after.flushes, before.flushes + 1);
}

TEST_F(LaxTest, TheFlusherDeliversOnItsOwn) {
  counter->inc(RedisKey("k"), 7);
  EXPECT_TRUE(wait_until([&] { return redis_value("k") == "7"; }, std::chrono::seconds(5)));
}

TEST_F(LaxTest, AnIdleCounterDoesNotFlush) {
  counter->inc(RedisKey("k"), 1);
  counter->flush();
  const auto flushes = counter->stats().flushes;
  std::this_thread::sleep_for(milliseconds(200));  // ten flush intervals
  EXPECT_EQ(counter->stats().flushes, flushes);
}

TEST_F(LaxTest, OverflowOfTheLocalViewBuffersNothing) {
  const RedisKey key("k");
  counter->set(key, INT64_MAX - 1);
  EXPECT_EQ(counter->inc(key, 1), INT64_MAX);
  EXPECT_DISTKIT_ERROR(counter->inc(key, 1), Errc::overflow);
  const std::vector<KeyCount> batch{{RedisKey("other"), 5}, {key, 1}};
  EXPECT_DISTKIT_ERROR(counter->inc_all(batch), Errc::overflow);
  EXPECT_EQ(counter->get(RedisKey("other")), 0);
  counter->flush();
  EXPECT_EQ(redis_value("k"), "9223372036854775807");
  EXPECT_EQ(redis_value("other"), "");
}

TEST_F(LaxTest, SetActsAtOnceAndOverridesThePendingDelta) {
  auto slow = lax_with_lag(*prefix, client, std::chrono::hours(1));
  const RedisKey key("k");
  slow->inc(key, 5);
  EXPECT_EQ(slow->set(key, 100), 100);
  EXPECT_EQ(redis_value("k"), "100");
  EXPECT_EQ(slow->inc(key, 1), 101);
  slow->flush();
  EXPECT_EQ(redis_value("k"), "101");
}

TEST_F(LaxTest, ConditionalSetAndDelIncludeThePendingDelta) {
  auto slow = lax_with_lag(*prefix, client, std::chrono::hours(1));
  redis_cli(redis_url(), {"HSET", hash, "k", "10"});
  const RedisKey key("k");
  EXPECT_EQ(slow->inc(key, 5), 15);
  EXPECT_EQ(slow->set_if(key, CounterComparator::eq(10), 0), (UpdateResult{15, 15, false}));
  EXPECT_EQ(redis_value("k"), "10");
  EXPECT_EQ(slow->set_if(key, CounterComparator::eq(15), 20), (UpdateResult{20, 15, true}));
  EXPECT_EQ(redis_value("k"), "20");
  slow->inc(key, 3);
  EXPECT_EQ(slow->del(key), 23);
  EXPECT_EQ(redis_value("k"), "");
  slow->flush();
  EXPECT_EQ(redis_value("k"), "");
  EXPECT_EQ(slow->get(key), 0);
}

TEST_F(LaxTest, ANotAppliedConditionalSetKeepsThePendingDelta) {
  auto slow = lax_with_lag(*prefix, client, std::chrono::hours(1));
  const RedisKey key("k");
  slow->inc(key, 4);
  EXPECT_FALSE(slow->set_if(key, CounterComparator::eq(0), 9).applied);
  slow->flush();
  EXPECT_EQ(redis_value("k"), "4");
}

TEST_F(LaxTest, ClearOverridesThePendingDeltas) {
  auto slow = lax_with_lag(*prefix, client, std::chrono::hours(1));
  slow->inc(RedisKey("a"), 1);
  slow->set(RedisKey("b"), 2);
  slow->inc(RedisKey("b"), 2);
  slow->clear();
  EXPECT_EQ(redis_cli(redis_url(), {"EXISTS", hash}), "0");
  EXPECT_EQ(slow->get(RedisKey("b")), 0);
  slow->inc(RedisKey("a"), 5);
  slow->flush();
  EXPECT_EQ(redis_value("a"), "5");
  EXPECT_EQ(redis_value("b"), "");
}

// The flush records of this test's counters: one key per instance.
std::vector<std::string> flush_records(const RedisKey& prefix) {
  const std::string keys = redis_cli(
      redis_url(), {"--scan", "--pattern", "{" + prefix.str() + ":lax_counter}:flushed:*"});
  std::vector<std::string> records;
  std::istringstream lines(keys);
  for (std::string line; std::getline(lines, line);) records.push_back(line);
  std::sort(records.begin(), records.end());
  return records;
}

TEST_F(LaxTest, ClearRemovesTheFlushRecord) {
  counter->inc(RedisKey("k"), 1);
  counter->flush();
  const auto records = flush_records(*prefix);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(redis_cli(redis_url(), {"PTTL", records[0]}), "-1");
  counter->clear();
  EXPECT_TRUE(flush_records(*prefix).empty());
}

// Each instance's record is its own key with its own TTL, so the records of
// instances that are gone expire while others keep flushing.
TEST_F(LaxTest, EachInstanceHasItsOwnExpiringFlushRecord) {
  auto other_client = Client::connect(redis_url());
  auto other = make_counter<LaxCounter>(*prefix, other_client);
  counter->inc(RedisKey("k"), 1);
  other->inc(RedisKey("k"), 1);
  counter->flush();
  other->flush();
  const auto records = flush_records(*prefix);
  ASSERT_EQ(records.size(), 2u);
  other.reset();
  redis_cli(redis_url(), {"PEXPIRE", records[0], "50"});
  redis_cli(redis_url(), {"PEXPIRE", records[1], "50"});
  EXPECT_TRUE(wait_until([&] { return flush_records(*prefix).empty(); }, std::chrono::seconds(5)));
  counter->inc(RedisKey("k"), 1);  // a flush renews only its own record
  counter->flush();
  EXPECT_EQ(flush_records(*prefix).size(), 1u);
  EXPECT_EQ(redis_value("k"), "3");
}

TEST_F(LaxTest, StaleReadsAreRefreshedAfterAllowedLag) {
  const RedisKey key("k");
  EXPECT_EQ(counter->inc(key, 1), 1);
  counter->flush();
  redis_cli(redis_url(), {"HINCRBY", hash, "k", "10"});  // another process
  EXPECT_TRUE(wait_until([&] { return counter->get(key) == 11; }, std::chrono::seconds(5)));
  EXPECT_EQ(counter->inc(key, 1), 12);
}

TEST_F(LaxTest, TwoCountersOnSeparateClientsConverge) {
  auto other_client = Client::connect(redis_url());
  auto other = make_counter<LaxCounter>(*prefix, other_client);
  const RedisKey key("k");
  for (int i = 0; i < 1000; ++i) {
    counter->inc(key, 1);
    other->inc(key, 2);
  }
  counter->flush();
  other->flush();
  EXPECT_EQ(redis_value("k"), "3000");
  EXPECT_TRUE(wait_until([&] { return counter->get(key) == 3000 && other->get(key) == 3000; },
                         std::chrono::seconds(5)));
}

TEST_F(LaxTest, AnotherProcessSeesFlushedIncrements) {
  counter->inc(RedisKey("shared"), 41);
  counter->flush();
  EXPECT_EQ(run_process({DISTKIT_PROBE_PATH, redis_url(), prefix->str(), "lax", "shared"}), "41");
}

}  // namespace
}  // namespace distkit::test
