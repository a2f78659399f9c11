// Heartbeats and dead instances: a process killed with SIGKILL is removed
// after the threshold, a live idle instance is kept, and the removal of a
// big dead instance is bounded per call.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
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
}

}  // namespace
}  // namespace distkit::test
