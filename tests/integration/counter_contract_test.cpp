// The Counter contract, run against one flavour: the target defines
// DISTKIT_FLAVOUR as StrictCounter or LaxCounter. What differs between the
// flavours is tested in their own files.
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdint>
#include <future>
#include <limits>
#include <thread>

#include "counter_fixture.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using Flavour = DISTKIT_FLAVOUR;
using ContractTest = CounterTest<Flavour>;

constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t beyond_double = 9007199254740993;  // 2^53 + 1

// Makes Redis hold everything the counter accepted so far.
void settle(Counter& counter) {
  if (auto* lax = dynamic_cast<LaxCounter*>(&counter)) lax->flush();
}

TEST_F(ContractTest, BasicOperations) {
  const RedisKey key("k");
  EXPECT_EQ(counter->get(key), 0);
  EXPECT_EQ(counter->inc(key, 5), 5);
  EXPECT_EQ(counter->inc(key, -2), 3);
  EXPECT_EQ(counter->dec(key, 10), -7);
  EXPECT_EQ(counter->get(key), -7);
  EXPECT_EQ(counter->set(key, 42), 42);
  EXPECT_EQ(counter->get(key), 42);
  EXPECT_EQ(counter->del(key), 42);
  EXPECT_EQ(counter->get(key), 0);
  EXPECT_EQ(counter->del(key), 0);
}

TEST_F(ContractTest, StoresDecimalFieldsInTheDocumentedHash) {
  counter->inc(RedisKey("views"), 12);
  counter->set(RedisKey("stock"), -3);
  settle(*counter);
  EXPECT_EQ(redis_value("views"), "12");
  EXPECT_EQ(redis_value("stock"), "-3");
  EXPECT_EQ(redis_cli(redis_url(), {"TYPE", hash_for("views")}), "hash");
}

TEST_F(ContractTest, ExactBeyondTwoToThe53) {
  const RedisKey key("big");
  EXPECT_EQ(counter->set(key, beyond_double), beyond_double);
  EXPECT_EQ(counter->get(key), beyond_double);
  EXPECT_EQ(redis_value("big"), "9007199254740993");
  EXPECT_EQ(counter->inc(key, 1), beyond_double + 1);
  settle(*counter);
  EXPECT_EQ(redis_value("big"), "9007199254740994");

  auto missed = counter->set_if(key, CounterComparator::eq(beyond_double - 1), 0);
  EXPECT_FALSE(missed.applied);
  EXPECT_EQ(missed.previous, beyond_double + 1);
  auto hit = counter->set_if(key, CounterComparator::eq(beyond_double + 1), max);
  EXPECT_TRUE(hit.applied);
  EXPECT_EQ(counter->get(key), max);
  EXPECT_FALSE(counter->inc_if(key, CounterComparator::lt(max), -1).applied);
  EXPECT_TRUE(counter->inc_if(key, CounterComparator::gt(max - 1), -1).applied);
  EXPECT_EQ(counter->get(key), max - 1);
}

TEST_F(ContractTest, OverflowChangesNothing) {
  const RedisKey key("edge");
  counter->set(key, max);
  EXPECT_DISTKIT_ERROR(counter->inc(key, 1), Errc::overflow);
  EXPECT_EQ(counter->get(key), max);
  counter->set(key, min);
  EXPECT_DISTKIT_ERROR(counter->dec(key, 1), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->inc_if(key, CounterComparator::nil(), -1), Errc::overflow);
  EXPECT_EQ(counter->get(key), min);
  settle(*counter);
  EXPECT_EQ(redis_value("edge"), "-9223372036854775808");
}

TEST_F(ContractTest, DecOfInt64MinAddsTwoToThe63) {
  const RedisKey key("d");
  counter->set(key, -1);
  EXPECT_EQ(counter->dec(key, min), max);
  counter->set(key, 0);
  EXPECT_DISTKIT_ERROR(counter->dec(key, min), Errc::overflow);
  EXPECT_EQ(counter->get(key), 0);
}

TEST_F(ContractTest, ConditionalUpdatesReportWhatHappened) {
  const RedisKey key("c");
  counter->set(key, 10);
  EXPECT_EQ(counter->inc_if(key, CounterComparator::lt(10), 5), (UpdateResult{10, 10, false}));
  EXPECT_EQ(counter->inc_if(key, CounterComparator::le(10), 5), (UpdateResult{15, 10, true}));
  EXPECT_EQ(counter->set_if(key, CounterComparator::gt(15), 0), (UpdateResult{15, 15, false}));
  EXPECT_EQ(counter->set_if(key, CounterComparator::ge(15), 1), (UpdateResult{1, 15, true}));
  EXPECT_EQ(counter->set_if(key, CounterComparator::ne(1), 7), (UpdateResult{1, 1, false}));
  EXPECT_EQ(counter->set_if(key, CounterComparator::eq(1), 7), (UpdateResult{7, 1, true}));
  EXPECT_EQ(counter->inc_if(key, CounterComparator::nil(), 3), (UpdateResult{10, 7, true}));
  const RedisKey fresh("fresh");
  EXPECT_EQ(counter->set_if(fresh, CounterComparator::eq(0), 4), (UpdateResult{4, 0, true}));
}

TEST_F(ContractTest, BatchesKeepInputOrderAndApplyDuplicatesInOrder) {
  const RedisKey a("a"), b("b");
  const std::vector<KeyCount> increments{{a, 1}, {b, 10}, {a, 2}, {a, -5}};
  EXPECT_EQ(counter->inc_all(increments), (std::vector<std::int64_t>{1, 10, 3, -2}));
  const std::vector<RedisKey> keys{b, RedisKey("missing"), a, b};
  EXPECT_EQ(counter->get_all(keys), (std::vector<std::int64_t>{10, 0, -2, 10}));

  const std::vector<KeyCount> sets{{a, 7}, {b, 8}, {a, 9}};
  EXPECT_EQ(counter->set_all(sets), (std::vector<std::int64_t>{7, 8, 9}));
  EXPECT_EQ(counter->get(a), 9);

  const std::vector<ConditionalUpdate> conditional_incs{{a, CounterComparator::eq(9), 1},
                                                        {a, CounterComparator::eq(9), 1},
                                                        {b, CounterComparator::nil(), -8}};
  EXPECT_EQ(counter->inc_all_if(conditional_incs),
            (std::vector<UpdateResult>{{10, 9, true}, {10, 10, false}, {0, 8, true}}));
  const std::vector<ConditionalUpdate> conditional_sets{{a, CounterComparator::eq(10), 100},
                                                        {a, CounterComparator::eq(10), 200},
                                                        {a, CounterComparator::eq(100), 300}};
  EXPECT_EQ(counter->set_all_if(conditional_sets),
            (std::vector<UpdateResult>{{100, 10, true}, {100, 100, false}, {300, 100, true}}));
  settle(*counter);
  EXPECT_EQ(redis_value("a"), "300");
}

TEST_F(ContractTest, FailedBatchChangesNothing) {
  // Keys of one shard: a sharded counter's batch is atomic per shard
  // (sharded_counter_test.cpp checks batches over several).
  const RedisKey a("a"), b(key_in_shard_of("a", "b"));
  counter->set(b, max);
  const std::vector<KeyCount> updates{{a, 5}, {b, 1}};
  EXPECT_DISTKIT_ERROR(counter->inc_all(updates), Errc::overflow);
  EXPECT_EQ(counter->get(a), 0);
  EXPECT_EQ(counter->get(b), max);
  const std::vector<ConditionalUpdate> conditional{{a, CounterComparator::nil(), 5},
                                                   {b, CounterComparator::ge(0), 1}};
  EXPECT_DISTKIT_ERROR(counter->inc_all_if(conditional), Errc::overflow);
  EXPECT_EQ(counter->get(a), 0);
}

TEST_F(ContractTest, EmptyBatchesNeedNoRoundTrip) {
  client->close();  // any request would now fail with Errc::closed
  EXPECT_TRUE(counter->get_all({}).empty());
  EXPECT_TRUE(counter->inc_all({}).empty());
  EXPECT_TRUE(counter->set_all({}).empty());
  EXPECT_TRUE(counter->inc_all_if({}).empty());
  EXPECT_TRUE(counter->set_all_if({}).empty());
  EXPECT_DISTKIT_ERROR(counter->set(RedisKey("k"), 1), Errc::closed);
  client.reset();
}

TEST_F(ContractTest, ClearRemovesOnlyThisCounter) {
  const std::string neighbour = prefix->str() + ":other";
  redis_cli(redis_url(), {"SET", neighbour, "keep"});
  auto other = make_counter<Flavour>(RedisKey(prefix->str() + "2"), client);
  other->inc(RedisKey("k"), 1);
  counter->inc(RedisKey("k"), 1);
  counter->set(RedisKey("j"), 2);
  settle(*counter);
  counter->clear();
  EXPECT_EQ(counter->get(RedisKey("k")), 0);
  EXPECT_EQ(existing(redis_url(), hashes), "0");
  EXPECT_EQ(redis_cli(redis_url(), {"GET", neighbour}), "keep");
  EXPECT_EQ(other->get(RedisKey("k")), 1);
  other->clear();
  redis_cli(redis_url(), {"DEL", neighbour});
}

TEST_F(ContractTest, UnusualKeysRoundTripExactly) {
  const std::vector<std::string> names{"with space",   "h\xc3\xa9llo \xe2\x82\xac",
                                       "{tag}",        std::string("nul\0byte", 8),
                                       "\xff\x01\x7f", std::string(255, 'x')};
  std::int64_t n = 0;
  for (const auto& name : names) counter->set(RedisKey(name), ++n);
  settle(*counter);
  n = 0;
  for (const auto& name : names) {
    EXPECT_EQ(counter->get(RedisKey(name)), ++n);
    if (name.find('\0') == std::string::npos) {
      EXPECT_EQ(redis_value(name), std::to_string(n));
    }
  }
  EXPECT_EQ(field_count(redis_url(), hashes), std::to_string(names.size()));
}

TEST_F(ContractTest, ForeignNonIntegerFieldIsARedisErrorNamingTheKey) {
  redis_cli(redis_url(), {"HSET", hash_for("junk"), "junk", "12abc"});
  try {
    counter->get(RedisKey("junk"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::redis);
    EXPECT_NE(std::string(e.what()).find("junk"), std::string::npos) << e.what();
  }
  EXPECT_DISTKIT_ERROR(counter->set_if(RedisKey("junk"), CounterComparator::eq(1), 2), Errc::redis);
  EXPECT_DISTKIT_ERROR(counter->del(RedisKey("junk")), Errc::redis);
  EXPECT_EQ(redis_value("junk"), "12abc");
  EXPECT_EQ(counter->inc(RedisKey("fine"), 1), 1);
}

TEST_F(ContractTest, WrongTypeIsARedisErrorAndTheClientKeepsWorking) {
  redis_cli(redis_url(), {"SET", hash_for("k"), "not a hash"});
  EXPECT_DISTKIT_ERROR(counter->get(RedisKey("k")), Errc::redis);
  EXPECT_DISTKIT_ERROR(counter->set(RedisKey("k"), 1), Errc::redis);
  EXPECT_DISTKIT_ERROR(counter->inc_all(std::vector<KeyCount>{{RedisKey("k"), 1}}), Errc::redis);
  auto healthy = make_counter<Flavour>(RedisKey(prefix->str() + "ok"), client);
  EXPECT_EQ(healthy->inc(RedisKey("k"), 2), 2);
  healthy->clear();
  redis_cli(redis_url(), {"DEL", hash_for("k")});
}

TEST_F(ContractTest, ManyThreadsOnOneKeyGiveAnExactTotal) {
  const RedisKey key("hot");
  constexpr int threads = 8, per_thread = 500;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        try {
          counter->inc(key, 1);
        } catch (const Error& e) {
          ADD_FAILURE() << e.what();
          ++failures;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  ASSERT_EQ(failures, 0);
  EXPECT_EQ(counter->get(key), threads * per_thread);
  settle(*counter);
  EXPECT_EQ(redis_value("hot"), std::to_string(threads * per_thread));
}

TEST_F(ContractTest, ShardsOutsideOneTo1024AreRefusedAtCreation) {
  for (const int shards : {0, -1, 1025, std::numeric_limits<int>::max()}) {
    CounterOptions options(*prefix, client);
    options.shards = shards;
    try {
      Flavour::create(options);
      ADD_FAILURE() << shards << " shards were accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("from 1 to 1024"), std::string::npos) << e.what();
    }
  }
  for (const int shards : {1, 2, 1024}) {
    CounterOptions options(*prefix, client);
    options.shards = shards;
    EXPECT_EQ(Flavour::create(options)->get(RedisKey("k")), 0);
  }
  EXPECT_EQ(redis_cli(redis_url(), {"KEYS", prefix->str() + ":*"}), "") << "nothing was written";
  EXPECT_EQ(redis_cli(redis_url(), {"KEYS", "{" + prefix->str() + ":*"}), "");
}

TEST_F(ContractTest, BatchesOverTheLimitAreRejectedBeforeAnythingIsSent) {
  const std::size_t too_many = max_batch_entries + 1;
  const std::vector<RedisKey> keys(too_many, RedisKey("k"));
  const std::vector<KeyCount> counts(too_many, KeyCount{RedisKey("k"), 1});
  const std::vector<ConditionalUpdate> updates(
      too_many, ConditionalUpdate{RedisKey("k"), CounterComparator::nil(), 1});
  EXPECT_DISTKIT_ERROR(counter->get_all(keys), Errc::invalid_argument);
  EXPECT_DISTKIT_ERROR(counter->inc_all(counts), Errc::invalid_argument);
  EXPECT_DISTKIT_ERROR(counter->set_all(counts), Errc::invalid_argument);
  EXPECT_DISTKIT_ERROR(counter->inc_all_if(updates), Errc::invalid_argument);
  EXPECT_DISTKIT_ERROR(counter->set_all_if(updates), Errc::invalid_argument);
  // (A handler taking the error_code: an exception shared across threads by
  // use_future trips TSan inside the uninstrumented libstdc++.)
  std::promise<boost::system::error_code> async_error;
  counter->async_inc_all(counts, [&](boost::system::error_code ec, std::vector<std::int64_t>) {
    async_error.set_value(ec);
  });
  EXPECT_EQ(async_error.get_future().get(), Errc::invalid_argument);
  try {
    counter->inc_all(counts);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_batch_entries"), std::string::npos) << e.what();
  }
  EXPECT_EQ(counter->get(RedisKey("k")), 0) << "nothing was buffered";
  settle(*counter);
  EXPECT_EQ(existing(redis_url(), hashes), "0");
  // LargeBatch runs a batch of exactly max_batch_entries.
}

TEST_F(ContractTest, LargeBatch) {
  // max_batch_entries (100,000) entries keep Redis busy for about half a second (more under
  // sanitizers): this runs on a Redis of its own, so that tests running in
  // parallel do not time out behind it, with a longer command timeout.
  RedisServer server;
  auto big =
      make_counter<Flavour>(*prefix, connect_with_timeout(server.url(), std::chrono::seconds(10)));
  constexpr int size = static_cast<int>(max_batch_entries);  // the largest batch allowed
  std::vector<KeyCount> updates;
  std::vector<RedisKey> keys;
  updates.reserve(size);
  for (int i = 0; i < size; ++i) {
    keys.emplace_back("k" + std::to_string(i));
    updates.push_back({keys.back(), i + 1});
  }
  const auto values = big->inc_all(updates);
  ASSERT_EQ(values.size(), static_cast<std::size_t>(size));
  EXPECT_EQ(values[size - 1], size);
  const auto read = big->get_all(keys);
  EXPECT_EQ(read[12345], 12346);
  settle(*big);
  EXPECT_EQ(field_count(server.url(), hashes), std::to_string(size));
}

TEST_F(ContractTest, AsyncWithCallback) {
  std::promise<std::pair<boost::system::error_code, std::int64_t>> result;
  counter->async_inc(RedisKey("cb"), 3, [&](boost::system::error_code ec, std::int64_t value) {
    result.set_value({ec, value});
  });
  auto [ec, value] = result.get_future().get();
  EXPECT_FALSE(ec);
  EXPECT_EQ(value, 3);

  std::promise<boost::system::error_code> failed;
  counter->set(RedisKey("cb"), max);
  counter->async_inc(RedisKey("cb"), 1, [&](boost::system::error_code error, std::int64_t) {
    failed.set_value(error);
  });
  EXPECT_EQ(failed.get_future().get(), Errc::overflow);
}

TEST_F(ContractTest, AsyncWithUseFuture) {
  const RedisKey a("a"), b("b");
  const std::vector<KeyCount> updates{{a, 1}, {b, 2}};
  auto incs = counter->async_inc_all(updates, boost::asio::use_future);
  EXPECT_EQ(incs.get(), (std::vector<std::int64_t>{1, 2}));
  const std::vector<RedisKey> keys{b, a};
  EXPECT_EQ(counter->async_get_all(keys, boost::asio::use_future).get(),
            (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(counter->async_set_if(a, CounterComparator::eq(1), 5, boost::asio::use_future).get(),
            (UpdateResult{5, 1, true}));
  EXPECT_EQ(counter->async_del(a, boost::asio::use_future).get(), 5);
  counter->async_clear(boost::asio::use_future).get();
  EXPECT_EQ(counter->async_get(b, boost::asio::use_future).get(), 0);
  counter->set(b, min);
  auto overflow = counter->async_dec(b, 1, boost::asio::use_future);
  try {
    overflow.get();
    FAIL();
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), Errc::overflow);
  }
}

TEST_F(ContractTest, AsyncWithUseAwaitable) {
  boost::asio::io_context io;
  std::int64_t total = 0;
  bool caught_overflow = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        const RedisKey key("co");
        for (int i = 0; i < 10; ++i)
          total = co_await counter->async_inc(key, 2, boost::asio::use_awaitable);
        const auto result = co_await counter->async_inc_if(key, CounterComparator::eq(20), 1,
                                                           boost::asio::use_awaitable);
        EXPECT_TRUE(result.applied);
        co_await counter->async_set(key, max, boost::asio::use_awaitable);
        try {
          co_await counter->async_inc(key, 1, boost::asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
          caught_overflow = e.code() == Errc::overflow;
        }
      },
      boost::asio::detached);
  io.run();
  EXPECT_EQ(total, 20);
  EXPECT_TRUE(caught_overflow);
}

TEST_F(ContractTest, AsyncDeferredStartsWhenInvoked) {
  const RedisKey key("deferred");
  auto operation = counter->async_inc(key, 4, boost::asio::deferred);
  EXPECT_EQ(counter->get(key), 0);
  std::promise<std::int64_t> value;
  std::move(operation)([&](boost::system::error_code, std::int64_t v) { value.set_value(v); });
  EXPECT_EQ(value.get_future().get(), 4);
}

TEST_F(ContractTest, NullClientIsInvalidArgument) {
  EXPECT_DISTKIT_ERROR(Flavour::create(CounterOptions(RedisKey("p"), nullptr)),
                       Errc::invalid_argument);
}

}  // namespace
}  // namespace distkit::test
