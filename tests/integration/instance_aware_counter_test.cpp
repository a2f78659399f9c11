// StrictInstanceAwareCounter against a real Redis: sums, global and
// on-instance writes, epochs, conditionals, batches, exactness, errors and
// the Redis layout.
#include <boost/asio/use_future.hpp>
#include <future>
#include <limits>
#include <memory>
#include <thread>

#include "instance_aware_fixture.hpp"

namespace distkit::test {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k2p53 = std::int64_t{1} << 53;

TEST_F(InstanceAwareTest, SumsSlicesAcrossInstances) {
  EXPECT_EQ(a->inc(key, 5), (InstanceCount{5, 5}));
  EXPECT_EQ(b->inc(key, 3), (InstanceCount{8, 3}));
  EXPECT_EQ(a->dec(key, 1), (InstanceCount{7, 4}));
  EXPECT_EQ(a->get(key), (InstanceCount{7, 4}));
  EXPECT_EQ(b->get(key), (InstanceCount{7, 3}));
  EXPECT_EQ(a->get(RedisKey("never")), (InstanceCount{0, 0}));
}

TEST_F(InstanceAwareTest, InstanceIdsAreDistinctUuids) {
  EXPECT_NE(a->instance_id(), b->instance_id());
  EXPECT_EQ(a->instance_id().size(), 36u);
  EXPECT_EQ(a->instance_id()[14], '4');  // version 4
}

TEST_F(InstanceAwareTest, RedisLayoutKeyByKey) {
  a->inc(key, 5);
  b->inc(key, 3);
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "8");
  EXPECT_EQ(cli({"HGET", count_key(*a), "conns"}), "5");
  EXPECT_EQ(cli({"HGET", count_key(*b), "conns"}), "3");
  EXPECT_EQ(cli({"SMEMBERS", base + ":keys"}), "conns");
  EXPECT_EQ(cli({"HGET", base + ":epoch", "conns"}), "");  // no global write yet
  EXPECT_EQ(cli({"ZCARD", base + ":instances"}), "2");
  expect_recent_heartbeat(*a);
  EXPECT_EQ(cli({"TYPE", base + ":instances"}), "zset");

  a->set(key, 10);
  EXPECT_EQ(cli({"HGET", base + ":epoch", "conns"}), "1");
  EXPECT_EQ(cli({"HGET", base + ":slice_epoch:" + a->instance_id(), "conns"}), "1")
      << "distkit C++ records the epoch of its slice in Redis";
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "10");
  EXPECT_EQ(cli({"HGET", count_key(*a), "conns"}), "10");
  EXPECT_EQ(cli({"HEXISTS", count_key(*b), "conns"}), "0");

  a->del(key);
  EXPECT_EQ(cli({"HGET", base + ":epoch", "conns"}), "2");
  EXPECT_EQ(cli({"HEXISTS", base + ":cumulative", "conns"}), "0");
  EXPECT_EQ(cli({"SISMEMBER", base + ":keys", "conns"}), "0");

  a->inc(key, 1);
  a->clear();
  EXPECT_EQ(cli({"KEYS", prefix->str() + ":*"}), "");
}

TEST_F(InstanceAwareTest, GlobalSetResetsEveryOtherSlice) {
  a->inc(key, 5);
  b->inc(key, 3);
  EXPECT_EQ(a->set(key, 10), (InstanceCount{10, 10}));
  EXPECT_EQ(b->get(key), (InstanceCount{10, 0}));
  EXPECT_EQ(b->inc(key, 1), (InstanceCount{11, 1})) << "the stale slice is not re-added";
  EXPECT_EQ(a->del(key), (InstanceCount{11, 10})) << "del returns what it had";
  EXPECT_EQ(b->inc(key, 2), (InstanceCount{2, 2}));
  EXPECT_EQ(a->get(key), (InstanceCount{2, 0}));
}

TEST_F(InstanceAwareTest, AnotherProcesssGlobalWriteStalesThisSlice) {
  const std::string rust = "11111111-1111-4111-8111-111111111111";
  a->inc(key, 5);
  b->inc(key, 3);
  rust_set(rust, "conns", 10);
  EXPECT_EQ(a->get(key), (InstanceCount{10, 0})) << "the stale slice no longer counts";
  EXPECT_EQ(cli({"HEXISTS", count_key(*a), "conns"}), "0") << "reset on this touch";
  EXPECT_EQ(cli({"HGET", base + ":slice_epoch:" + a->instance_id(), "conns"}), "1");
  EXPECT_EQ(a->inc(key, 2), (InstanceCount{12, 2})) << "the next inc starts from the new epoch";
  EXPECT_EQ(b->inc(key, 1), (InstanceCount{13, 1})) << "b's 3 is not re-added";
  EXPECT_EQ(b->set_on_instance(key, 4), (InstanceCount{16, 4}));
  EXPECT_EQ(cli({"HGET", base + ":epoch", "conns"}), "1") << "on-instance writes bump nothing";

  rust_del(rust, "conns");
  EXPECT_EQ(b->del_on_instance(key), (InstanceCount{0, 0})) << "its stale 4 is not subtracted";
  EXPECT_EQ(a->inc(key, 1), (InstanceCount{1, 1}));
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "1");

  // A batch touching one stale key several times resets it once.
  rust_set(rust, "conns", 0);
  const std::vector<KeyCount> batch{{key, 1}, {key, 2}};
  EXPECT_EQ(a->inc_all(batch), (std::vector<InstanceCount>{{1, 1}, {3, 3}}));
  // clear_on_instance takes back only what counts.
  rust_set(rust, "conns", 20);
  a->inc(RedisKey("other"), 6);
  a->clear_on_instance();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "20");
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "other"}), "0");
}

// This instance's own global write bumps the epoch under calls of its own
// in flight: none of them may take its fresh slice for a stale one.
TEST_F(InstanceAwareTest, OwnGlobalWritesAmidCallsInFlightKeepEverySlice) {
  std::vector<std::future<InstanceCount>> calls;
  for (int i = 0; i < 200; ++i) {
    calls.push_back(i % 50 == 25 ? a->async_set(key, 100, boost::asio::use_future)
                                 : a->async_inc(key, 1, boost::asio::use_future));
  }
  for (auto& call : calls) call.get();
  // Whatever the order, the cumulative is a's slice: a slice taken for
  // stale would have left it behind.
  const InstanceCount after = a->get(key);
  EXPECT_EQ(after.cumulative, after.instance);
  EXPECT_GE(after.instance, 100);
  EXPECT_EQ(cli({"HGET", count_key(*a), "conns"}), std::to_string(after.instance));
  EXPECT_EQ(cli({"HGET", base + ":epoch", "conns"}), "4");
}

TEST_F(InstanceAwareTest, GlobalWriteReachesAnInstanceThatJoinedLater) {
  a->set(key, 1);  // learns the instances
  auto c = make();
  c->inc(key, 7);
  EXPECT_EQ(a->set(key, 2), (InstanceCount{2, 2}));
  EXPECT_EQ(c->get(key), (InstanceCount{2, 0}));
}

TEST_F(InstanceAwareTest, OnInstanceWrites) {
  a->inc(key, 5);
  b->inc(key, 3);
  EXPECT_EQ(b->set_on_instance(key, 10), (InstanceCount{15, 10}));
  EXPECT_EQ(b->del_on_instance(key), (InstanceCount{5, 10}));
  EXPECT_EQ(b->get(key), (InstanceCount{5, 0}));
  EXPECT_EQ(cli({"HGET", base + ":epoch", "conns"}), "") << "no epoch bump";
  b->inc(key, 4);
  b->inc(RedisKey("other"), 6);
  a->inc(RedisKey("other"), 1);
  b->clear_on_instance();
  EXPECT_EQ(a->get(key), (InstanceCount{5, 5}));
  EXPECT_EQ(a->get(RedisKey("other")), (InstanceCount{1, 1}));
  EXPECT_EQ(cli({"EXISTS", count_key(*b)}), "0");
}

TEST_F(InstanceAwareTest, ConditionalsCompareCumulativeOrSlice) {
  a->inc(key, 5);
  b->inc(key, 3);
  EXPECT_EQ(b->inc_if(key, CounterComparator::gt(7), 1),
            (InstanceUpdateResult{{9, 4}, {8, 3}, true}));
  EXPECT_EQ(b->inc_if(key, CounterComparator::lt(5), 1),
            (InstanceUpdateResult{{9, 4}, {9, 4}, false}));
  EXPECT_EQ(b->set_on_instance_if(key, CounterComparator::eq(9), 0),
            (InstanceUpdateResult{{9, 4}, {9, 4}, false}))
      << "set_on_instance_if compares the slice, not the cumulative";
  EXPECT_EQ(b->set_on_instance_if(key, CounterComparator::eq(4), 0),
            (InstanceUpdateResult{{5, 0}, {9, 4}, true}));
  EXPECT_EQ(a->set_if(key, CounterComparator::ne(5), 1),
            (InstanceUpdateResult{{5, 5}, {5, 5}, false}));
  EXPECT_EQ(a->set_if(key, CounterComparator::ge(5), 1),
            (InstanceUpdateResult{{1, 1}, {5, 5}, true}));
  EXPECT_EQ(a->inc_if(key, CounterComparator::nil(), 2),
            (InstanceUpdateResult{{3, 3}, {1, 1}, true}));
}

TEST_F(InstanceAwareTest, ExactBeyond2To53) {
  EXPECT_EQ(a->inc(key, k2p53), (InstanceCount{k2p53, k2p53}));
  EXPECT_EQ(b->inc(key, 1), (InstanceCount{k2p53 + 1, 1}));
  EXPECT_EQ(a->inc(key, kMax - k2p53 - 2), (InstanceCount{kMax - 1, kMax - 2}));
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "9223372036854775806");
  EXPECT_TRUE(b->inc_if(key, CounterComparator::eq(kMax - 1), 1).applied);
  EXPECT_FALSE(b->inc_if(key, CounterComparator::eq(kMax - 1), 1).applied)
      << "kMax and kMax - 1 are the same double";
  EXPECT_EQ(b->set_on_instance_if(key, CounterComparator::eq(2), kMin + 5),
            (InstanceUpdateResult{{2, kMin + 5}, {kMax, 2}, true}));
  const RedisKey low("low");
  a->inc(low, -1);
  EXPECT_EQ(a->dec(low, kMin), (InstanceCount{kMax, kMax})) << "dec(INT64_MIN) adds 2^63";
}

TEST_F(InstanceAwareTest, OverflowChangesNothing) {
  a->inc(key, kMax - 1);
  b->inc(RedisKey("x"), 5);
  EXPECT_DISTKIT_ERROR(b->inc(key, 2), Errc::overflow);
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "9223372036854775806");
  EXPECT_EQ(cli({"HEXISTS", count_key(*b), "conns"}), "0");
  const std::vector<KeyCount> batch{{RedisKey("x"), 5}, {key, 1}, {key, 1}};
  EXPECT_DISTKIT_ERROR(b->inc_all(batch), Errc::overflow);
  EXPECT_EQ(b->get(RedisKey("x")), (InstanceCount{5, 5})) << "the whole batch is undone";
  EXPECT_EQ(a->get(key), (InstanceCount{kMax - 1, kMax - 1}));
  EXPECT_DISTKIT_ERROR(b->set_on_instance(key, 2), Errc::overflow);
  EXPECT_EQ(cli({"HGET", count_key(*b), "conns"}), "");
  b->set_on_instance(key, -5);
  EXPECT_EQ(a->get(key), (InstanceCount{kMax - 6, kMax - 1}));
  EXPECT_DISTKIT_ERROR(b->set_on_instance(key, 6), Errc::overflow);
  EXPECT_EQ(b->set_on_instance(key, 1), (InstanceCount{kMax, 1}));
}

// A slice change whose partial sums could leave int64 although the result
// fits: the script orders the increments so that no partial sum does.
TEST_F(InstanceAwareTest, SliceChangeNearTheBoundFits) {
  const RedisKey k("k");
  auto c = make();
  a->inc(k, kMin + 1);
  b->inc(k, 5);
  c->inc(k, -2);
  EXPECT_EQ(b->set_on_instance(k, 10), (InstanceCount{kMin + 9, 10}));
  // Without b the sum would be INT64_MIN - 1.
  EXPECT_DISTKIT_ERROR(b->del_on_instance(k), Errc::overflow);
  EXPECT_EQ(b->get(k), (InstanceCount{kMin + 9, 10}));
  c->clear_on_instance();
  EXPECT_EQ(b->del_on_instance(k), (InstanceCount{kMin + 1, 10}));
}

TEST_F(InstanceAwareTest, BatchesApplyInOrderWithDuplicates) {
  const RedisKey x("x"), y("y");
  const std::vector<KeyCount> incs{{x, 1}, {y, 2}, {x, 3}};
  EXPECT_EQ(a->inc_all(incs), (std::vector<InstanceCount>{{1, 1}, {2, 2}, {4, 4}}));
  EXPECT_EQ(b->inc_all(incs), (std::vector<InstanceCount>{{5, 1}, {4, 2}, {8, 4}}));
  const std::vector<RedisKey> keys{x, y, x, RedisKey("none")};
  EXPECT_EQ(a->get_all(keys), (std::vector<InstanceCount>{{8, 4}, {4, 2}, {8, 4}, {0, 0}}));
  const std::vector<ConditionalUpdate> conditional{{x, CounterComparator::eq(8), 1},
                                                   {x, CounterComparator::eq(8), 1},
                                                   {x, CounterComparator::eq(9), 1}};
  EXPECT_EQ(a->inc_all_if(conditional),
            (std::vector<InstanceUpdateResult>{
                {{9, 5}, {8, 4}, true}, {{9, 5}, {9, 5}, false}, {{10, 6}, {9, 5}, true}}));
  const std::vector<KeyCount> sets{{x, 3}, {y, 1}, {x, 7}};
  EXPECT_EQ(b->set_all(sets), (std::vector<InstanceCount>{{3, 3}, {1, 1}, {7, 7}}));
  EXPECT_EQ(a->get(x), (InstanceCount{7, 0}));
  EXPECT_EQ(a->set_all_on_instance(sets), (std::vector<InstanceCount>{{10, 3}, {2, 1}, {14, 7}}));
  const std::vector<ConditionalUpdate> slice_sets{{x, CounterComparator::eq(7), 0},
                                                  {x, CounterComparator::eq(7), 1}};
  EXPECT_EQ(a->set_all_on_instance_if(slice_sets),
            (std::vector<InstanceUpdateResult>{{{7, 0}, {14, 7}, true}, {{7, 0}, {7, 0}, false}}));
  const std::vector<ConditionalUpdate> global_sets{{y, CounterComparator::eq(2), 9},
                                                   {y, CounterComparator::eq(2), 8}};
  EXPECT_EQ(a->set_all_if(global_sets),
            (std::vector<InstanceUpdateResult>{{{9, 9}, {2, 1}, true}, {{9, 9}, {9, 9}, false}}));
  EXPECT_TRUE(a->inc_all({}).empty());
  EXPECT_TRUE(a->get_all({}).empty());
}

// The error an async inc completes with, as an error_code. (Not use_future:
// its exception, shared across threads, trips TSan inside the uninstrumented
// libstdc++.)
std::future<boost::system::error_code> inc_error(InstanceAwareCounter& counter, const RedisKey& key,
                                                 std::int64_t count) {
  auto promise = std::make_shared<std::promise<boost::system::error_code>>();
  auto future = promise->get_future();
  counter.async_inc(key, count, [promise](boost::system::error_code ec, InstanceCount) {
    promise->set_value(ec);
  });
  return future;
}

TEST_F(InstanceAwareTest, AsyncForms) {
  EXPECT_EQ(a->async_inc(key, 2, boost::asio::use_future).get(), (InstanceCount{2, 2}));
  EXPECT_EQ(b->async_set_on_instance(key, 3, boost::asio::use_future).get(), (InstanceCount{5, 3}));
  EXPECT_EQ(a->async_get(key, boost::asio::use_future).get(), (InstanceCount{5, 2}));
  EXPECT_TRUE(
      a->async_inc_if(key, CounterComparator::eq(5), 1, boost::asio::use_future).get().applied);
  const std::vector<KeyCount> batch{{key, 1}};
  EXPECT_EQ(a->async_inc_all(batch, boost::asio::use_future).get(),
            (std::vector<InstanceCount>{{7, 4}}));
  a->async_clear_on_instance(boost::asio::use_future).get();
  EXPECT_EQ(b->async_del(key, boost::asio::use_future).get(), (InstanceCount{3, 3}));
  a->async_clear(boost::asio::use_future).get();
  b->inc(key, 1);
  EXPECT_EQ(inc_error(*a, key, kMax).get(), Errc::overflow);
}

TEST_F(InstanceAwareTest, BadOptionsAndBadData) {
  InstanceAwareCounterOptions options(*prefix, client);
  options.dead_instance_threshold = std::chrono::milliseconds(0);
  EXPECT_DISTKIT_ERROR(StrictInstanceAwareCounter::create(options), Errc::invalid_argument);
  EXPECT_DISTKIT_ERROR(StrictInstanceAwareCounter::create(InstanceAwareCounterOptions(*prefix, {})),
                       Errc::invalid_argument);
  cli({"HSET", base + ":cumulative", "text", "abc"});
  EXPECT_DISTKIT_ERROR(a->get(RedisKey("text")), Errc::redis);
  EXPECT_DISTKIT_ERROR(a->inc(RedisKey("text"), 1), Errc::redis);
  EXPECT_EQ(cli({"HGET", count_key(*a), "text"}), "") << "the slice increment was undone";
  cli({"SET", base + ":epoch", "x"});
  EXPECT_DISTKIT_ERROR(a->set(key, 1), Errc::redis);
  cli({"DEL", base + ":epoch"});
}

// C:keys is written after the slice and the total, without being read
// first: another type there fails the call after those writes, which are
// then undone, so the error means "not applied" and a retry counts once.
TEST_F(InstanceAwareTest, AKeySetOfAnotherTypeFailsTheCallWithNothingChanged) {
  cli({"SET", base + ":keys", "another type"});
  EXPECT_DISTKIT_ERROR(a->inc(key, 5), Errc::redis);
  EXPECT_DISTKIT_ERROR(a->set(RedisKey("other"), 7), Errc::redis);
  EXPECT_EQ(cli({"HGET", count_key(*a), key.str()}), "") << "the slice increment was undone";
  EXPECT_EQ(cli({"HGET", base + ":cumulative", key.str()}), "");
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "other"}), "");
  EXPECT_EQ(cli({"HGET", base + ":epoch", "other"}), "") << "the epoch bump was undone";
  cli({"DEL", base + ":keys"});
  EXPECT_EQ(a->inc(key, 5), (InstanceCount{5, 5}));
}

}  // namespace
}  // namespace distkit::test

namespace distkit::test {
namespace {

// Concurrent calls are combined into one script invocation; a call that
// fails must not take the others down with it, and each gets its own result.
TEST_F(InstanceAwareTest, ConcurrentCallsKeepTheirOwnOutcomes) {
  const RedisKey x("x"), big("big");
  a->inc(big, kMax);
  std::vector<std::future<InstanceCount>> incs;
  std::vector<std::future<boost::system::error_code>> overflows;
  for (int i = 0; i < 300; ++i) {
    incs.push_back(a->async_inc(x, 1, boost::asio::use_future));
    if (i % 50 == 0) overflows.push_back(inc_error(*b, big, 1));
  }
  std::vector<std::int64_t> slices;
  for (auto& inc : incs) slices.push_back(inc.get().instance);
  for (std::size_t i = 0; i < slices.size(); ++i) {
    EXPECT_EQ(slices[i], static_cast<std::int64_t>(i) + 1) << "calls apply in order";
  }
  for (auto& overflow : overflows) EXPECT_EQ(overflow.get(), Errc::overflow);
  EXPECT_EQ(a->get(x), (InstanceCount{300, 300}));
  EXPECT_EQ(b->get(big), (InstanceCount{kMax, 0}));
}

}  // namespace
}  // namespace distkit::test

namespace distkit::test {
namespace {

// Blocking calls from several threads on two instances: every increment is
// counted once, in the slices and the cumulative.
TEST_F(InstanceAwareTest, ThreadsOnTwoInstancesCountExactly) {
  constexpr int kThreads = 4, kCalls = 400;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& counter = t % 2 == 0 ? a : b;
      for (int i = 0; i < kCalls; ++i) {
        counter->inc(key, 1);
        if (i % 100 == 0) counter->get(key);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(a->get(key), (InstanceCount{kThreads * kCalls, kThreads / 2 * kCalls}));
  EXPECT_EQ(b->get(key).instance, kThreads / 2 * kCalls);
}

}  // namespace
}  // namespace distkit::test

namespace distkit::test {
namespace {

TEST_F(InstanceAwareTest, ClosedClientFailsWithClosed) {
  auto own_client = Client::connect(redis_url());
  auto counter =
      StrictInstanceAwareCounter::create(InstanceAwareCounterOptions(*prefix, own_client));
  counter->inc(key, 1);
  own_client->close();
  EXPECT_DISTKIT_ERROR(counter->inc(key, 1), Errc::closed);
  EXPECT_DISTKIT_ERROR(counter->clear(), Errc::closed);
}

}  // namespace
}  // namespace distkit::test
