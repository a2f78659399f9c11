// LaxInstanceAwareCounter against a real Redis: sums with other lax
// instances (and none with strict ones), buffered increments without Redis, exactly-once flushes
// under stalls, drain on destruction, exact totals under nonstop increments from threads and
// processes, global and on-instance writes over pending deltas, conditionals, exactness, set-aside
// deltas and the Redis layout.
#include <algorithm>
#include <atomic>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <future>
#include <limits>
#include <sstream>
#include <thread>

#include "instance_aware_fixture.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

TEST_F(LaxInstanceAwareTest, SumsWithOtherLaxInstances) {
  auto lax = make_lax();
  EXPECT_EQ(lax->inc(key, 5), (InstanceCount{0 + 5, 5}));
  EXPECT_EQ(peer->inc(key, 3), (InstanceCount{3, 3})) << "the other delta is not flushed yet";
  lax->flush();
  peer->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "8");
  EXPECT_EQ(cli({"HGET", count_key(*lax), "conns"}), "5");
  EXPECT_EQ(cli({"HGET", count_key(*peer), "conns"}), "3");
  // A lag of an hour: get answers from the last read plus the pending delta.
  EXPECT_EQ(lax->dec(key, 1), (InstanceCount{4, 4}));
  EXPECT_EQ(lax->get(key), (InstanceCount{4, 4}));
  auto fresh = make_lax(milliseconds(1));
  EXPECT_EQ(fresh->get(key), (InstanceCount{8, 0}));
  lax->flush();
  EXPECT_TRUE(wait_until(
      [&] {
        return fresh->get(key) == InstanceCount{7, 0};
      },
      milliseconds(5000)))
      << "a stale pair is read again after allowed_lag";
}

// As in the Rust distkit, a strict and a lax instance-aware counter on one
// prefix are two counters: neither sees the other's slices, instances,
// global writes or clear.
TEST_F(LaxInstanceAwareTest, StrictAndLaxCountersOnOnePrefixDoNotSeeEachOther) {
  auto strict = make();
  auto lax = make_lax();
  EXPECT_EQ(strict->inc(key, 3), (InstanceCount{3, 3}));
  EXPECT_EQ(lax->inc(key, 5), (InstanceCount{5, 5}));
  lax->flush();
  EXPECT_EQ(strict->get(key), (InstanceCount{3, 3}));
  EXPECT_EQ(make_lax(milliseconds(1))->get(key), (InstanceCount{5, 0}));
  const std::string strict_base = prefix->str() + ":" + strict_kind;
  EXPECT_EQ(cli({"HGET", strict_base + ":cumulative", "conns"}), "3");
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "5");
  EXPECT_EQ(cli({"ZSCORE", strict_base + ":instances", lax->instance_id()}), "");
  EXPECT_EQ(cli({"ZSCORE", base + ":instances", strict->instance_id()}), "");

  EXPECT_EQ(strict->set(key, 100), (InstanceCount{100, 100}));
  EXPECT_EQ(cli({"HGET", count_key(*lax), "conns"}), "5") << "the strict set left the lax slice";
  EXPECT_EQ(cli({"HGET", base + ":epoch", "conns"}), "");
  EXPECT_EQ(lax->del(key), (InstanceCount{5, 5}));
  EXPECT_EQ(strict->get(key), (InstanceCount{100, 100}));

  lax->inc(RedisKey("other"), 1);
  lax->flush();
  strict->clear();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "other"}), "1") << "the strict clear left it";
  lax->clear();
  EXPECT_EQ(strict->inc(key, 1), (InstanceCount{1, 1})) << "the lax clear left the strict counter";
  strict->clear();
}

// A Rust process's lax counter (its strict backend on the lax layout,
// reproduced by raw commands): its slice counts in the C++ lax cumulative,
// and once past the threshold a C++ lax instance removes it.
TEST_F(LaxInstanceAwareTest, RustLaxInstancesSliceCountsAndIsRemovedWhenDead) {
  const std::string rust = "22222222-2222-4222-8222-222222222222";
  cli({"ZADD", base + ":instances", std::to_string(redis_now_ms()), rust});
  cli({"HSET", base + ":count:" + rust, "conns", "7"});
  cli({"HSET", base + ":cumulative", "conns", "7"});
  cli({"SADD", base + ":keys", "conns"});
  auto lax = make_lax(milliseconds(1), milliseconds(5000));
  EXPECT_EQ(lax->inc(key, 2), (InstanceCount{9, 2}));
  lax->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "9");
  cli({"ZADD", base + ":instances", "1", rust});  // its last heartbeat long ago
  EXPECT_TRUE(wait_until(
      [&] {
        return lax->get(key) == InstanceCount{2, 2};
      },
      milliseconds(10000)))
      << "the Rust instance's slice was not removed";
  EXPECT_EQ(cli({"EXISTS", base + ":count:" + rust}), "0");
  EXPECT_EQ(cli({"ZSCORE", base + ":instances", rust}), "");
}

// On a private Redis, so that only this counter's scripts are counted (its
// first heartbeat goes out before the warm-up's get, on one connection).
TEST(LaxInstanceAwareAlone, WarmIncrementsSendNothing) {
  RedisServer server;
  InstanceAwareCounterOptions options(RedisKey("warm"), Client::connect(server.url()));
  options.allowed_lag = std::chrono::hours(1);
  auto lax = LaxInstanceAwareCounter::create(options);
  const RedisKey key("conns");
  lax->inc(key, 1);  // warm
  auto evalsha_calls = [&] {
    const std::string info = redis_cli(server.url(), {"INFO", "commandstats"});
    const auto at = info.find("cmdstat_evalsha:calls=");
    return at == std::string::npos ? 0 : std::stoll(info.substr(at + 22));
  };
  const std::int64_t before = evalsha_calls();
  for (int i = 0; i < 10000; ++i) lax->inc(key, 1);
  EXPECT_EQ(evalsha_calls(), before) << "a warm increment went to Redis";
  EXPECT_EQ(lax->get(key), (InstanceCount{10001, 10001}));
  lax->flush();
  EXPECT_EQ(
      redis_cli(server.url(), {"HGET", "warm:lax_instance_aware_counter:cumulative", "conns"}),
      "10001");
}

TEST_F(LaxInstanceAwareTest, RedisLayoutKeyByKey) {
  auto lax = make_lax();
  lax->inc(key, 5);
  lax->inc(RedisKey("other"), 2);
  lax->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "5");
  EXPECT_EQ(cli({"HGET", count_key(*lax), "conns"}), "5");
  EXPECT_EQ(cli({"HGET", count_key(*lax), "other"}), "2");
  EXPECT_EQ(cli({"SISMEMBER", base + ":keys", "conns"}), "1");
  EXPECT_EQ(cli({"SISMEMBER", base + ":keys", "other"}), "1");
  EXPECT_EQ(cli({"HGET", base + ":epoch", "conns"}), "") << "a flush is no global write";
  expect_recent_heartbeat(*lax);
  EXPECT_EQ(cli({"GET", record_key(*lax)}), "1") << "one chunk applied";
  const std::int64_t ttl = std::stoll(cli({"PTTL", record_key(*lax)}));
  EXPECT_GT(ttl, 3500 * 1000);
  EXPECT_LE(ttl, 3600 * 1000);
  EXPECT_EQ(cli({"EXISTS", base + ":set_aside"}), "0");
  EXPECT_EQ(cli({"HGET", base + ":slice_epoch:" + lax->instance_id(), ""}), "1")
      << "the heartbeat marks the instance's slice epochs";
  lax->inc(key, 1);
  lax->flush();
  EXPECT_EQ(cli({"GET", record_key(*lax)}), "2");
  // Every key of the counter is under <prefix>:lax_instance_aware_counter,
  // as the Rust distkit's lax counter keeps its own: nothing under the
  // strict counter's <prefix>:instance_aware_counter.
  const std::string lax_id = lax->instance_id(), peer_id = peer->instance_id();
  std::vector<std::string> expected{base + ":count:" + lax_id,
                                    base + ":cumulative",
                                    base + ":flushed:" + lax_id,
                                    base + ":instances",
                                    base + ":keys",
                                    base + ":slice_epoch:" + lax_id,
                                    base + ":slice_epoch:" + peer_id};
  std::vector<std::string> listed;
  std::istringstream names(cli({"KEYS", prefix->str() + ":*"}));
  for (std::string name; std::getline(names, name);) listed.push_back(name);
  std::sort(expected.begin(), expected.end());
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(cli({"ZCARD", base + ":instances"}), "2") << "the lax instance and the peer";
}

TEST_F(LaxInstanceAwareTest, ExactBeyondTwoToThe53AndOverflowBuffersNothing) {
  auto lax = make_lax();
  const std::int64_t big = (std::int64_t{1} << 53) + 1;
  EXPECT_EQ(lax->inc(key, big), (InstanceCount{big, big}));
  lax->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "9007199254740993");
  EXPECT_EQ(lax->inc(key, kMax - big), (InstanceCount{kMax, kMax}));
  try {
    lax->inc(key, 1);
    FAIL() << "no overflow";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::overflow);
  }
  // The cumulative counts another instance's slice too.
  peer->inc(RedisKey("two"), kMax);
  peer->flush();
  try {
    lax->inc(RedisKey("two"), 1);
    FAIL() << "no overflow of the cumulative";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::overflow);
  }
  EXPECT_EQ(lax->get(RedisKey("two")), (InstanceCount{kMax, 0}));
  const KeyCount batch[] = {{key, -1}, {RedisKey("two"), 1}};
  EXPECT_THROW(lax->inc_all(batch), Error);
  EXPECT_EQ(lax->get(key), (InstanceCount{kMax, kMax})) << "a failed batch takes back its entries";
  lax->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), std::to_string(kMax));
}

TEST_F(LaxInstanceAwareTest, DeltaRedisCanNeverTakeIsSetAside) {
  auto lax = make_lax();
  lax->get(key);  // warm
  lax->inc(RedisKey("fine"), 4);
  cli({"HSET", base + ":cumulative", "conns", "not-a-number"});
  lax->inc(key, 3);
  lax->flush();
  EXPECT_EQ(cli({"LRANGE", base + ":set_aside", "0", "-1"}), "3 conns");
  EXPECT_EQ(cli({"HEXISTS", count_key(*lax), "conns"}), "0") << "the slice took nothing either";
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "fine"}), "4") << "the rest of the chunk applied";
  cli({"HDEL", base + ":cumulative", "conns"});
  cli({"DEL", base + ":set_aside"});
}

// The key set and the set-aside list are written after the slices and
// totals: one of another type fails the flush before any write, so the
// retry once it is fixed applies the chunk once.
TEST_F(LaxInstanceAwareTest, AKeySetOrSetAsideListOfAnotherTypeFailsTheFlushBeforeAnyWrite) {
  for (const std::string suffix : {":keys", ":set_aside"}) {
    SCOPED_TRACE(suffix);
    auto lax = make_lax();
    const RedisKey fine("fine" + std::to_string(suffix.size()));
    lax->get(key);  // warm
    cli({"HSET", base + ":cumulative", "conns", "not-a-number"});
    cli({"SET", base + suffix, "another type"});
    lax->inc(fine, 4);
    lax->inc(key, 3);
    try {
      lax->flush();
      ADD_FAILURE() << "the flush succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::redis);
      EXPECT_NE(std::string(e.what()).find("WRONGTYPE"), std::string::npos) << e.what();
    }
    EXPECT_EQ(cli({"HEXISTS", base + ":cumulative", fine.str()}), "0") << "nothing written";
    EXPECT_EQ(cli({"HEXISTS", count_key(*lax), fine.str()}), "0");
    cli({"DEL", base + suffix});
    EXPECT_TRUE(eventually([&] { lax->flush(); }, std::chrono::seconds(10)));
    EXPECT_EQ(cli({"HGET", base + ":cumulative", fine.str()}), "4") << "applied once";
    EXPECT_EQ(cli({"HGET", count_key(*lax), fine.str()}), "4");
    EXPECT_EQ(cli({"LRANGE", base + ":set_aside", "0", "-1"}), "3 conns");
    cli({"HDEL", base + ":cumulative", "conns"});
    cli({"DEL", base + ":set_aside"});
  }
}

TEST_F(LaxInstanceAwareTest, GlobalWritesOverridePendingDeltas) {
  auto lax = make_lax();
  lax->inc(key, 5);  // pending
  peer->inc(key, 2);
  peer->flush();
  EXPECT_EQ(lax->set(key, 100), (InstanceCount{100, 100}));
  lax->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "100") << "the +5 was not re-added";
  EXPECT_EQ(cli({"HEXISTS", count_key(*peer), "conns"}), "0");
  EXPECT_EQ(lax->inc(key, 1), (InstanceCount{101, 101}));
  EXPECT_EQ(lax->del(key), (InstanceCount{101, 101})) << "del returns what it had";
  lax->flush();
  EXPECT_EQ(cli({"HEXISTS", base + ":cumulative", "conns"}), "0");
  EXPECT_EQ(lax->get(key), (InstanceCount{0, 0}));

  // Another instance's global write resets this slice in Redis; later
  // deltas add to what it left.
  lax->inc(key, 7);
  lax->flush();
  EXPECT_EQ(peer->set(key, 10), (InstanceCount{10, 10}));
  lax->inc(key, 2);
  lax->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "12");
  EXPECT_EQ(cli({"HGET", count_key(*peer), "conns"}), "10");
  EXPECT_EQ(cli({"HGET", count_key(*lax), "conns"}), "2");

  lax->inc(key, 3);
  cli({"RPUSH", base + ":set_aside", "1 x"});
  lax->clear();
  EXPECT_EQ(cli({"EXISTS", record_key(*lax), base + ":set_aside"}), "0")
      << "clear deletes this instance's flush record and the set-aside list";
  EXPECT_EQ(lax->get(key), (InstanceCount{0, 0}));
  lax->inc(key, 4);
  lax->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "4")
      << "the first chunk after clear applies without a record";
  EXPECT_NE(cli({"GET", record_key(*lax)}), "") << "numbers go on from before the clear";
}

TEST_F(LaxInstanceAwareTest, OnInstanceWrites) {
  auto lax = make_lax();
  peer->inc(key, 3);
  peer->flush();
  lax->inc(key, 5);
  EXPECT_EQ(lax->set_on_instance(key, 1), (InstanceCount{4, 1}));
  EXPECT_EQ(lax->get(key), (InstanceCount{4, 1}));
  lax->inc(key, 2);
  EXPECT_EQ(lax->del_on_instance(key), (InstanceCount{3, 3})) << "{cumulative after, removed}";
  EXPECT_EQ(lax->get(key), (InstanceCount{3, 0}));
  lax->inc(key, 4);
  lax->inc(RedisKey("other"), 1);
  lax->clear_on_instance();
  EXPECT_EQ(lax->get(key), (InstanceCount{3, 0}));
  lax->flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "3");
  EXPECT_EQ(cli({"HGET", count_key(*peer), "conns"}), "3");
  EXPECT_EQ(cli({"EXISTS", count_key(*lax)}), "0");

  const KeyCount updates[] = {{key, 6}, {RedisKey("other"), 2}, {key, 7}};
  const auto after = lax->set_all_on_instance(updates);
  EXPECT_EQ(after.back(), (InstanceCount{10, 7}));
  EXPECT_EQ(lax->get(key), (InstanceCount{10, 7}));
}

TEST_F(LaxInstanceAwareTest, ConditionalsCompareCumulativeOrSlice) {
  auto lax = make_lax();
  peer->inc(key, 10);
  peer->flush();
  EXPECT_EQ(lax->get(key), (InstanceCount{10, 0}));
  auto refused = lax->inc_if(key, CounterComparator::lt(5), 1);
  EXPECT_FALSE(refused.applied);
  EXPECT_EQ(refused.value, (InstanceCount{10, 0}));
  auto taken = lax->inc_if(key, CounterComparator::ge(10), 1);
  EXPECT_TRUE(taken.applied);
  EXPECT_EQ(taken.value, (InstanceCount{11, 1}));
  EXPECT_EQ(taken.previous, (InstanceCount{10, 0}));
  // Flushed first: Redis holds 11 when set_if compares.
  auto set = lax->set_if(key, CounterComparator::eq(11), 0);
  EXPECT_TRUE(set.applied);
  EXPECT_EQ(set.value, (InstanceCount{0, 0}));
  lax->inc(key, 2);
  peer->inc(key, 5);
  peer->flush();
  auto on_slice = lax->set_on_instance_if(key, CounterComparator::eq(2), 9);
  EXPECT_TRUE(on_slice.applied) << "compared with the slice (2), not the cumulative (7)";
  EXPECT_EQ(on_slice.value, (InstanceCount{14, 9}));
  EXPECT_FALSE(lax->set_on_instance_if(key, CounterComparator::eq(2), 1).applied);

  const ConditionalUpdate batch[] = {{key, CounterComparator::gt(0), 1},
                                     {key, CounterComparator::eq(0), 100}};
  const auto results = lax->inc_all_if(batch);
  EXPECT_TRUE(results[0].applied);
  EXPECT_FALSE(results[1].applied);
  EXPECT_EQ(results[1].value, (InstanceCount{15, 10}));
}

// Each error of an immediate call or a read says what went wrong, as the
// strict counter's do, not only its code.
TEST_F(LaxInstanceAwareTest, ImmediateCallErrorsCarryTheirMessages) {
  auto lax = make_lax();
  auto expect_error = [](const std::function<void()>& call, Errc code, const std::string& part) {
    try {
      call();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code);
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  peer->inc(key, kMax);
  peer->flush();
  expect_error([&] { lax->set_on_instance(key, 1); }, Errc::overflow, "'conns'");
  const KeyCount batch[] = {{RedisKey("fine"), 1}, {key, 1}};
  expect_error([&] { lax->set_all_on_instance(batch); }, Errc::overflow, "'conns'");
  EXPECT_EQ(cli({"HEXISTS", base + ":cumulative", "fine"}), "0") << "nothing changed";
  cli({"HSET", base + ":cumulative", "text", "abc"});
  expect_error([&] { lax->set_if(RedisKey("text"), CounterComparator::eq(1), 2); }, Errc::redis,
               "'text'");
  expect_error([&] { lax->del_on_instance(RedisKey("text")); }, Errc::redis, "'text'");
  expect_error([&] { lax->get(RedisKey("text")); }, Errc::redis, "'text'");
  cli({"HDEL", base + ":cumulative", "text"});

  auto own_client = Client::connect(redis_url());
  InstanceAwareCounterOptions options(*prefix, own_client);
  auto closed = LaxInstanceAwareCounter::create(options);
  own_client->close();
  expect_error([&] { closed->set(key, 1); }, Errc::closed, "closed");
}

TEST_F(LaxInstanceAwareTest, StatsAreTheFlushersAsLaxCounters) {
  auto lax = make_lax();
  lax->inc(key, 2);
  lax->inc(RedisKey("other"), -5);
  LaxCounterStats stats = lax->stats();
  EXPECT_EQ(stats.pending_keys, 2u);
  EXPECT_EQ(stats.pending_total, -3);
  EXPECT_EQ(stats.flushes, 0u);
  lax->flush();
  stats = lax->stats();
  EXPECT_EQ(stats.pending_keys, 0u);
  EXPECT_EQ(stats.flushes, 1u);
  EXPECT_EQ(stats.set_aside, 0u);
}

// Another process's global write (a Rust process's set, reproduced by raw
// commands) stales this lax instance's slice: its next flush starts the
// slice afresh instead of adding to the stale one.
TEST_F(LaxInstanceAwareTest, AnotherProcesssGlobalWriteStalesTheLaxSlice) {
  auto lax = make_lax();
  lax->inc(key, 5);
  lax->flush();
  rust_set("11111111-1111-4111-8111-111111111111", "conns", 10);
  lax->inc(key, 2);
  lax->flush();
  EXPECT_EQ(cli({"HGET", count_key(*lax), "conns"}), "2");
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "12");
  auto fresh = make_lax(milliseconds(1));
  EXPECT_EQ(fresh->get(key), (InstanceCount{12, 0}));
}

TEST_F(LaxInstanceAwareTest, AsyncFormsComplete) {
  auto lax = make_lax();
  EXPECT_EQ(lax->async_inc(key, 2, boost::asio::use_future).get(), (InstanceCount{2, 2}));
  EXPECT_EQ(lax->async_set(key, 5, boost::asio::use_future).get(), (InstanceCount{5, 5}));
  EXPECT_EQ(lax->async_get(key, boost::asio::use_future).get(), (InstanceCount{5, 5}));
  EXPECT_TRUE(
      lax->async_get_all(std::span<const RedisKey>(), boost::asio::use_future).get().empty());
  lax->async_clear_on_instance(boost::asio::use_future).get();
  EXPECT_EQ(lax->get(key), (InstanceCount{0, 0}));
}

TEST_F(LaxInstanceAwareTest, CreateRejectsBadOptions) {
  InstanceAwareCounterOptions options(*prefix, client);
  options.allowed_lag = milliseconds(0);
  try {
    LaxInstanceAwareCounter::create(options);
    FAIL() << "accepted allowed_lag 0";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
  }
  InstanceAwareCounterOptions no_client(*prefix, nullptr);
  EXPECT_THROW(LaxInstanceAwareCounter::create(no_client), Error);
}

TEST_F(LaxInstanceAwareTest, DestructionDrainsTheBuffer) {
  {
    auto lax = make_lax();
    for (int i = 0; i < 5000; ++i) lax->inc(RedisKey("k" + std::to_string(i % 50)), 1);
  }
  std::int64_t sum = 0;
  for (int i = 0; i < 50; ++i) {
    sum += std::stoll(cli({"HGET", base + ":cumulative", "k" + std::to_string(i)}));
  }
  EXPECT_EQ(sum, 5000);
}

TEST_F(LaxInstanceAwareTest, NonstopIncrementsFromThreadsAndAnotherInstanceCountExactly) {
  auto lax = make_lax(milliseconds(2));
  constexpr int threads = 4, per_thread = 50000, keys = 8;
  std::vector<RedisKey> names;
  for (int i = 0; i < keys; ++i) names.emplace_back("k" + std::to_string(i));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) lax->inc(names[(i + t) % keys], 1);
    });
  }
  std::thread reader([&] {
    for (int i = 0; i < 200; ++i) lax->get(names[i % keys]);
  });
  for (int i = 0; i < 1000; ++i) peer->inc(names[i % keys], 1);
  for (auto& worker : workers) worker.join();
  reader.join();
  lax->flush();
  peer->flush();
  std::int64_t cumulative = 0, slices = 0;
  for (int i = 0; i < keys; ++i) {
    cumulative += std::stoll(cli({"HGET", base + ":cumulative", names[i].str()}));
    slices += std::stoll(cli({"HGET", count_key(*lax), names[i].str()}));
  }
  EXPECT_EQ(slices, std::int64_t{threads} * per_thread);
  EXPECT_EQ(cumulative, std::int64_t{threads} * per_thread + 1000);
}

TEST_F(LaxInstanceAwareTest, NonstopIncrementsFromSeveralProcessesCountExactly) {
  constexpr int processes = 3, per_process = 100000, keys = 8;
  std::vector<std::future<ProcessResult>> children;
  for (int p = 0; p < processes; ++p) {
    children.push_back(std::async(std::launch::async, [&] {
      return run({DISTKIT_LAX_INSTANCE_PROBE_PATH, redis_url(), prefix->str(), std::to_string(keys),
                  std::to_string(per_process)});
    }));
  }
  auto lax = make_lax(milliseconds(2));
  for (int i = 0; i < per_process; ++i) lax->inc(RedisKey("k" + std::to_string(i % keys)), 1);
  for (auto& child : children) EXPECT_EQ(child.get().exit_code, 0);
  lax->flush();
  std::int64_t cumulative = 0;
  for (int i = 0; i < keys; ++i) {
    cumulative += std::stoll(cli({"HGET", base + ":cumulative", "k" + std::to_string(i)}));
  }
  EXPECT_EQ(cumulative, std::int64_t{processes + 1} * per_process);
  EXPECT_EQ(cli({"ZCARD", base + ":instances"}), std::to_string(processes + 2))
      << "each process, the lax counter and the fixture's peer";
}

// A stall longer than the command timeout makes chunks fail after Redis may
// have applied them; their retries must count once.
TEST(LaxInstanceAwareDurability, StallLongerThanTheCommandTimeoutCountsEverythingOnce) {
  RedisServer server;
  InstanceAwareCounterOptions options(RedisKey("stall"),
                                      connect_with_timeout(server.url(), milliseconds(200)));
  options.allowed_lag = milliseconds(20);
  auto lax = LaxInstanceAwareCounter::create(options);
  constexpr int keys = 8;
  for (int i = 0; i < keys; ++i) lax->inc(RedisKey("k" + std::to_string(i)), 0);
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> accepted{0};
  std::thread producer([&] {
    for (int i = 0; !stop.load(); ++i) {
      lax->inc(RedisKey("k" + std::to_string(i % keys)), 1);
      accepted.fetch_add(1);
      if (i % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  std::this_thread::sleep_for(milliseconds(100));
  for (int round = 0; round < 2; ++round) {
    redis_cli(server.url(), {"CLIENT", "PAUSE", "700", "WRITE"});
    std::this_thread::sleep_for(milliseconds(900));
  }
  stop = true;
  producer.join();
  EXPECT_TRUE(eventually([&] { lax->flush(); }, std::chrono::seconds(30)));
  std::int64_t cumulative = 0, slices = 0;
  const std::string count = "stall:lax_instance_aware_counter:count:" + lax->instance_id();
  for (int i = 0; i < keys; ++i) {
    const std::string field = "k" + std::to_string(i);
    cumulative += std::stoll(
        redis_cli(server.url(), {"HGET", "stall:lax_instance_aware_counter:cumulative", field}));
    slices += std::stoll(redis_cli(server.url(), {"HGET", count, field}));
  }
  EXPECT_EQ(cumulative, accepted.load());
  EXPECT_EQ(slices, accepted.load());
  EXPECT_GT(std::stoll(redis_cli(server.url(), {"GET", "stall:lax_instance_aware_counter:flushed:" +
                                                           lax->instance_id()})),
            1);
}

}  // namespace
}  // namespace distkit::test
