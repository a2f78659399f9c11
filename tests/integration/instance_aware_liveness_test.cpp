// Heartbeats and dead instances: a process killed with SIGKILL is removed
// after the threshold, a live idle instance is kept, and the removal of a
// big dead instance is bounded per call.
#include <signal.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <future>
#include <thread>

#include "child_process.hpp"
#include "instance_aware_fixture.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;

// A child process that added `count` to `key` and heartbeats until killed.
struct Probe {
  pid_t pid = -1;
  std::string instance_id;
};

Probe start_probe(const RedisKey& prefix, milliseconds threshold, const std::string& key,
                  std::int64_t count) {
  auto child = tools::spawn({DISTKIT_INSTANCE_PROBE_PATH, redis_url(), prefix.str(),
                             std::to_string(threshold.count()), key, std::to_string(count)},
                            tools::ChildOutput::pipe);
  Probe probe{child.pid, {}};
  char c;
  while (::read(child.output, &c, 1) == 1 && c != '\n') probe.instance_id += c;
  ::close(child.output);
  return probe;
}

TEST_F(InstanceAwareTest, KilledProcessIsRemovedAfterTheThreshold) {
  const milliseconds threshold(1000);
  auto survivor = make(threshold);
  survivor->inc(key, 2);
  Probe probe = start_probe(*prefix, threshold, "conns", 5);
  ASSERT_EQ(probe.instance_id.size(), 36u);
  EXPECT_EQ(survivor->get(key), (InstanceCount{7, 2}));

  ASSERT_EQ(::kill(probe.pid, SIGKILL), 0);
  EXPECT_EQ(tools::wait_for_exit(probe.pid), 128 + SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return survivor->get(key).cumulative == 2; }, milliseconds(10000)));
  EXPECT_GE(std::chrono::steady_clock::now() - killed, threshold - threshold / 3)
      << "removed before the threshold";
  EXPECT_EQ(cli({"ZSCORE", base + ":instances", probe.instance_id}), "");
  EXPECT_EQ(cli({"EXISTS", base + ":count:" + probe.instance_id}), "0");
  EXPECT_EQ(survivor->get(key), (InstanceCount{2, 2}));
}

TEST_F(InstanceAwareTest, HeartbeatOfAnIdleCounterRemovesDeadInstances) {
  const milliseconds threshold(600);
  auto idle = make(threshold);
  Probe probe = start_probe(*prefix, threshold, "conns", 5);
  ASSERT_EQ(::kill(probe.pid, SIGKILL), 0);
  tools::wait_for_exit(probe.pid);
  // Nobody calls: only the heartbeat of `idle` can remove the probe.
  EXPECT_TRUE(wait_until(
      [&] {
        return cli({"EXISTS", base + ":count:" + probe.instance_id}) == "0";
      },
      milliseconds(10000)));
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "0");
}

TEST_F(InstanceAwareTest, IdleLiveInstanceIsKept) {
  // Long enough that a loaded machine (sanitizers, parallel tests) does not
  // delay a heartbeat past it.
  const milliseconds threshold(1000);
  auto busy = make(threshold);
  auto idle = make(threshold);
  idle->inc(key, 3);
  // Four thresholds without a call of `idle`: its heartbeat keeps it alive.
  const auto until = std::chrono::steady_clock::now() + 4 * threshold;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(busy->inc(key, 0).cumulative, 3);
    std::this_thread::sleep_for(threshold / 10);
  }
  EXPECT_EQ(idle->get(key), (InstanceCount{3, 3}));
}

TEST_F(InstanceAwareTest, DroppedCounterExpiresAfterTheThreshold) {
  const milliseconds threshold(300);
  auto survivor = make(threshold);
  auto dropped = make(threshold);
  dropped->inc(key, 4);
  const std::string id = dropped->instance_id();
  dropped.reset();
  EXPECT_TRUE(wait_until([&] { return survivor->get(key).cumulative == 0; }, milliseconds(10000)));
  EXPECT_EQ(cli({"ZSCORE", base + ":instances", id}), "");
}

// A dead instance (as a Rust process would leave it) with 2,500 slices:
// each call removes at most 1,000 of them, the totals stay exact.
TEST_F(InstanceAwareTest, RemovalOfABigDeadInstanceIsBoundedPerCall) {
  const std::string dead = "00000000-0000-4000-8000-000000000000";
  const std::string dead_hash = base + ":count:" + dead;
  std::vector<std::string> slices{"HSET", dead_hash};
  std::vector<std::string> totals{"HSET", base + ":cumulative"};
  std::vector<std::string> members{"SADD", base + ":keys"};
  for (int i = 0; i < 2500; ++i) {
    const std::string field = "k" + std::to_string(i);
    slices.insert(slices.end(), {field, std::to_string(i + 1)});
    totals.insert(totals.end(), {field, std::to_string(i + 1 + 10)});
    members.push_back(field);
  }
  cli(slices);
  cli(totals);
  cli(members);
  cli({"ZADD", base + ":instances", "1", dead});

  a->get(key);
  EXPECT_EQ(cli({"HLEN", dead_hash}), "1500");
  EXPECT_NE(cli({"ZSCORE", base + ":instances", dead}), "") << "known until its slices are gone";
  b->get(key);
  EXPECT_EQ(cli({"HLEN", dead_hash}), "500");
  a->get(key);
  EXPECT_EQ(cli({"EXISTS", dead_hash}), "0");
  EXPECT_EQ(cli({"ZSCORE", base + ":instances", dead}), "");
  for (int i = 0; i < 2500; i += 97) {
    EXPECT_EQ(cli({"HGET", base + ":cumulative", "k" + std::to_string(i)}), "10");
  }
  EXPECT_EQ(cli({"EXISTS", base + ":slice_epoch:" + dead}), "0")
      << "the mark of the removal under way went with the instance";
}

// `count` slices of 1, on keys k0, k1, ...
std::vector<KeyCount> ones(int count) {
  std::vector<KeyCount> slices;
  for (int i = 0; i < count; ++i) slices.push_back({RedisKey("k" + std::to_string(i)), 1});
  return slices;
}

// The sum of every cumulative of the layout `base`, by Redis.
std::string total_of(const std::string& base) {
  return redis_cli(redis_url(), {"EVAL",
                                 "local s = 0 for _, v in ipairs(redis.call('HVALS', KEYS[1])) "
                                 "do s = s + tonumber(v) end return s",
                                 "1", base + ":cumulative"});
}

// Declared dead with 2,500 slices (its heartbeat set far back, as a long
// pause leaves it), the instance resumes after a survivor removed 1,000 of
// them: it removes the other 1,500 itself before it registers again, so it
// comes back with empty slices as an instance removed in one call does,
// instead of keeping the slices not removed yet.
TEST_F(InstanceAwareTest, InstanceResumingDuringAStepwiseRemovalComesBackEmpty) {
  a->inc_all(ones(2500));
  b->inc(RedisKey("k0"), 10);
  const std::string id = a->instance_id();
  cli({"ZADD", base + ":instances", "1", id});
  b->get(key);  // removes 1,000 of a's slices, marks the removal under way
  EXPECT_EQ(cli({"HLEN", count_key(*a)}), "1500");
  EXPECT_EQ(cli({"HGET", base + ":slice_epoch:" + id, ":removing"}), "1");

  EXPECT_EQ(a->inc(RedisKey("k0"), 1), (InstanceCount{11, 1}))
      << "a's old slice of k0 was removed, whichever step took it";
  EXPECT_EQ(cli({"HLEN", count_key(*a)}), "1") << "only the slice written since";
  EXPECT_EQ(total_of(base), "11");
  EXPECT_NE(cli({"ZSCORE", base + ":instances", id}), "") << "registered again";
  EXPECT_EQ(cli({"HEXISTS", base + ":slice_epoch:" + id, ":removing"}), "0");
  EXPECT_EQ(b->get(RedisKey("k0")), (InstanceCount{11, 10}));
  EXPECT_EQ(b->get(RedisKey("k1")), (InstanceCount{0, 0}));
}

// A C++ instance that dies holding a slice staled by another process's
// global set: the survivors do not subtract it (the set left it out of the
// cumulative already).
TEST_F(InstanceAwareTest, StaleSliceOfADeadInstanceIsNotSubtracted) {
  const milliseconds threshold(300);
  auto survivor = make(threshold);
  auto dying = make(threshold);
  dying->inc(key, 4);
  const std::string id = dying->instance_id();
  // Its heartbeat has marked its slice_epoch hash by now.
  EXPECT_TRUE(wait_until(
      [&] {
        return cli({"HGET", base + ":slice_epoch:" + id, ""}) == "1";
      },
      milliseconds(5000)));
  rust_set("11111111-1111-4111-8111-111111111111", "conns", 10);
  dying.reset();
  EXPECT_TRUE(wait_until(
      [&] {
        return cli({"ZSCORE", base + ":instances", id}).empty();
      },
      milliseconds(10000)));
  EXPECT_EQ(survivor->get(key), (InstanceCount{10, 0}));
  EXPECT_EQ(cli({"EXISTS", base + ":count:" + id, base + ":slice_epoch:" + id}), "0");
}

// A client whose only I/O thread the test can block: an instance paused
// longer than the threshold (as a stopped process would be).
struct PausableInstance {
  PausableInstance(const RedisKey& prefix, milliseconds threshold, bool lax) {
    runner = std::thread([this] { io.run(); });
    ClientOptions client_options;
    client_options.url = redis_url();
    client = Client::connect(io.get_executor(), client_options);
    InstanceAwareCounterOptions options(prefix, client);
    options.dead_instance_threshold = threshold;
    options.allowed_lag = std::chrono::hours(1);  // lax: only flush() flushes
    counter = lax ? std::shared_ptr<InstanceAwareCounter>(LaxInstanceAwareCounter::create(options))
                  : StrictInstanceAwareCounter::create(options);
  }
  ~PausableInstance() {
    resume();
    counter.reset();
    client.reset();  // closes it while its executor still runs
    work.reset();
    runner.join();
  }
  void pause() {
    boost::asio::post(io, [released = release.get_future().share()] { released.wait(); });
  }
  void resume() {
    if (!resumed) release.set_value();
    resumed = true;
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread runner;
  std::shared_ptr<Client> client;
  std::shared_ptr<InstanceAwareCounter> counter;
  std::promise<void> release;
  bool resumed = false;
};

// Declared dead while paused, the instance comes back on its next call with
// empty slices: what the survivor subtracted is neither re-added nor
// subtracted again.
TEST_F(InstanceAwareTest, InstanceDeclaredDeadWhilePausedComesBackEmpty) {
  const milliseconds threshold(400);
  auto survivor = make(threshold);
  PausableInstance paused(*prefix, threshold, false);
  const std::string id = paused.counter->instance_id();
  EXPECT_EQ(paused.counter->inc(key, 5), (InstanceCount{5, 5}));
  EXPECT_EQ(survivor->inc(key, 2), (InstanceCount{7, 2}));
  paused.pause();
  EXPECT_TRUE(wait_until([&] { return survivor->get(key).cumulative == 2; }, milliseconds(10000)));
  EXPECT_EQ(cli({"ZSCORE", base + ":instances", id}), "");
  paused.resume();
  EXPECT_EQ(paused.counter->inc(key, 1), (InstanceCount{3, 1}));
  EXPECT_NE(cli({"ZSCORE", base + ":instances", id}), "") << "registered again";
  EXPECT_EQ(paused.counter->dec(key, 1), (InstanceCount{2, 0}));
  EXPECT_EQ(survivor->get(key), (InstanceCount{2, 2}));
}

// The lax variant: increments buffered while it was paused (and declared
// dead) count exactly once after it resumes.
TEST_F(LaxInstanceAwareTest, LaxInstanceDeclaredDeadWhilePausedCountsItsBufferOnce) {
  const milliseconds threshold(400);
  auto survivor = make_lax(milliseconds(1), threshold);
  PausableInstance paused(*prefix, threshold, true);
  auto& lax = static_cast<LaxInstanceAwareCounter&>(*paused.counter);
  const std::string id = lax.instance_id();
  lax.inc(key, 5);
  lax.flush();
  survivor->inc(key, 2);
  survivor->flush();
  paused.pause();
  lax.inc(key, 3);  // warm: buffered without the I/O thread
  EXPECT_TRUE(wait_until([&] { return survivor->get(key).cumulative == 2; }, milliseconds(10000)));
  paused.resume();
  lax.flush();
  lax.flush();
  EXPECT_EQ(cli({"HGET", base + ":cumulative", "conns"}), "5");
  EXPECT_EQ(cli({"HGET", count_key(*survivor), "conns"}), "2");
  EXPECT_EQ(cli({"HGET", base + ":count:" + id, "conns"}), "3");
  EXPECT_NE(cli({"ZSCORE", base + ":instances", id}), "");
}

// The lax variant resuming during a stepwise removal: its flush removes the
// rest of its old slices first (failing, and retried, while some remain),
// then applies into empty slices.
TEST_F(LaxInstanceAwareTest, LaxInstanceResumingDuringAStepwiseRemovalFlushesIntoEmptySlices) {
  auto lax = make_lax();
  lax->inc_all(ones(2500));
  lax->flush();
  EXPECT_EQ(peer->set_on_instance(RedisKey("k0"), 10), (InstanceCount{11, 10}));
  const std::string id = lax->instance_id();
  cli({"ZADD", base + ":instances", "1", id});
  peer->set_on_instance(RedisKey("k1"), 0);  // removes 1,000 of the lax slices
  EXPECT_EQ(cli({"HLEN", count_key(*lax)}), "1500");

  lax->inc(RedisKey("k0"), 1);  // warm: buffered
  EXPECT_TRUE(eventually([&] { lax->flush(); }, milliseconds(10000)));
  EXPECT_EQ(cli({"HGETALL", count_key(*lax)}), "k0\n1") << "only the delta flushed since";
  EXPECT_EQ(total_of(base), "11");
  EXPECT_NE(cli({"ZSCORE", base + ":instances", id}), "") << "registered again";
  EXPECT_EQ(make_lax(milliseconds(1))->get(RedisKey("k0")), (InstanceCount{11, 0}));
}

// A process counting lax, killed with SIGKILL: after the threshold the
// survivors remove its slices, and every cumulative is exactly the sum of
// the survivors' slices.
TEST_F(LaxInstanceAwareTest, KilledLaxProcessIsRemovedAndTotalsMatchTheSurvivors) {
  const milliseconds threshold(1000);
  constexpr int keys = 4;
  auto lax = make_lax(milliseconds(5), threshold);
  auto other = make_lax(milliseconds(5), threshold);
  auto child = tools::spawn({DISTKIT_LAX_INSTANCE_PROBE_PATH, redis_url(), prefix->str(),
                             std::to_string(keys), "0", std::to_string(threshold.count())},
                            tools::ChildOutput::pipe);
  std::string probe_id;
  char c;
  while (::read(child.output, &c, 1) == 1 && c != '\n') probe_id += c;
  ::close(child.output);
  struct Killer {
    pid_t pid;
    ~Killer() {
      ::kill(pid, SIGKILL);
      tools::wait_for_exit(pid);
    }
  } killer{child.pid};
  ASSERT_EQ(probe_id.size(), 36u);
  for (int i = 0; i < 2000; ++i) {
    const RedisKey k("k" + std::to_string(i % keys));
    lax->inc(k, 1);
    if (i % 99 == 0) other->inc(k, 1);
  }
  EXPECT_TRUE(wait_until(
      [&] {
        return cli({"HLEN", base + ":count:" + probe_id}) == "4";
      },
      milliseconds(10000)));
  ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until(
      [&] {
        other->get(RedisKey("k0"));
        return cli({"EXISTS", base + ":count:" + probe_id}) == "0";
      },
      milliseconds(10000)));
  EXPECT_GE(std::chrono::steady_clock::now() - killed, threshold - threshold / 3)
      << "removed before the threshold";
  lax->flush();
  other->flush();
  for (int i = 0; i < keys; ++i) {
    const std::string field = "k" + std::to_string(i);
    const std::int64_t survivors = std::stoll(cli({"HGET", count_key(*lax), field})) +
                                   std::stoll(cli({"HGET", count_key(*other), field}));
    EXPECT_EQ(cli({"HGET", base + ":cumulative", field}), std::to_string(survivors)) << field;
    EXPECT_EQ(lax->get(RedisKey(field)).instance, 500);
    EXPECT_GT(std::stoll(cli({"HGET", count_key(*other), field})), 0);
  }
}

}  // namespace
}  // namespace distkit::test
