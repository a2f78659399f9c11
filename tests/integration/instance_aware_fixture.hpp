// Shared setup of the instance-aware counter tests: counters on the test
// Redis under a unique prefix, and the names of their Redis keys.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <distkit/distkit.hpp>
#include <memory>
#include <string>

#include "counter_fixture.hpp"
#include "test_env.hpp"

namespace distkit::test {

// The key kinds of the two layouts, as the Rust distkit names them.
inline constexpr const char* strict_kind = "instance_aware_counter";
inline constexpr const char* lax_kind = "lax_instance_aware_counter";

// A unique prefix on the test Redis, counters of either kind on it, and the
// names of one layout's keys (`base` = `<prefix>:<kind>`).
class InstanceAwareKeys : public testing::Test {
 protected:
  void open(const std::string& kind) {
    client = Client::connect(redis_url());
    prefix = std::make_unique<RedisKey>(unique_prefix());
    base = prefix->str() + ":" + kind;
  }

  std::shared_ptr<StrictInstanceAwareCounter> make(
      std::chrono::milliseconds threshold = std::chrono::milliseconds(30000)) {
    InstanceAwareCounterOptions options(*prefix, client);
    options.dead_instance_threshold = threshold;
    return StrictInstanceAwareCounter::create(options);
  }
  // allowed_lag of an hour by default: only flush(), overrides and the
  // destructor flush.
  std::shared_ptr<LaxInstanceAwareCounter> make_lax(
      std::chrono::milliseconds allowed_lag = std::chrono::hours(1),
      std::chrono::milliseconds threshold = std::chrono::milliseconds(30000)) {
    InstanceAwareCounterOptions options(*prefix, client);
    options.allowed_lag = allowed_lag;
    options.dead_instance_threshold = threshold;
    return LaxInstanceAwareCounter::create(options);
  }

  // redis-cli on the test Redis: an independent view.
  std::string cli(const std::vector<std::string>& args) { return redis_cli(redis_url(), args); }
  std::string count_key(const InstanceAwareCounter& counter) {
    return base + ":count:" + counter.instance_id();
  }
  // Redis's clock (TIME) in milliseconds.
  std::int64_t redis_now_ms() {
    const std::string time = cli({"TIME"});
    const auto newline = time.find('\n');
    return std::stoll(time.substr(0, newline)) * 1000 + std::stoll(time.substr(newline + 1)) / 1000;
  }
  // The counter's heartbeat is Redis TIME in ms, written at most `within`
  // before now. A range, not an equal second: a second may turn between the
  // heartbeat and the read of TIME.
  void expect_recent_heartbeat(const InstanceAwareCounter& counter,
                               std::chrono::milliseconds within = std::chrono::seconds(10)) {
    const std::int64_t now = redis_now_ms();
    const std::int64_t beat =
        std::stoll(cli({"ZSCORE", base + ":instances", counter.instance_id()}));
    EXPECT_LE(beat, now) << "heartbeats are Redis TIME in ms";
    EXPECT_GE(beat, now - within.count()) << "heartbeats are Redis TIME in ms";
  }

  // What a Rust distkit process's set/del does, reproduced by raw commands:
  // its own slice and the cumulative written, the key's epoch bumped, every
  // other instance's slice left in place (stale).
  void rust_set(const std::string& rust_id, const std::string& field, std::int64_t value) {
    cli({"HINCRBY", base + ":epoch", field, "1"});
    cli({"HSET", base + ":cumulative", field, std::to_string(value)});
    cli({"HSET", base + ":count:" + rust_id, field, std::to_string(value)});
    cli({"SADD", base + ":keys", field});
  }
  void rust_del(const std::string& rust_id, const std::string& field) {
    cli({"HINCRBY", base + ":epoch", field, "1"});
    cli({"HDEL", base + ":cumulative", field});
    cli({"SREM", base + ":keys", field});
    cli({"HDEL", base + ":count:" + rust_id, field});
  }

  std::shared_ptr<Client> client;
  std::unique_ptr<RedisKey> prefix;
  std::string base;
  const RedisKey key{"conns"};
};

// Two strict instances on the strict layout.
class InstanceAwareTest : public InstanceAwareKeys {
 protected:
  void SetUp() override {
    open(strict_kind);
    a = make();
    b = make();
  }
  void TearDown() override {
    try {
      if (a) a->clear();
    } catch (const Error&) {
      // Tests that break a key on purpose clean up themselves.
    }
  }

  std::shared_ptr<StrictInstanceAwareCounter> a;
  std::shared_ptr<StrictInstanceAwareCounter> b;
};

// A lax instance, `peer`, on the lax layout: the other instances of a lax
// test are lax too (a strict counter on the same prefix is another counter).
class LaxInstanceAwareTest : public InstanceAwareKeys {
 protected:
  void SetUp() override {
    open(lax_kind);
    peer = make_lax();
  }
  void TearDown() override {
    try {
      if (peer) peer->clear();
    } catch (const Error&) {
      // Tests that break a key on purpose clean up themselves.
    }
  }
  std::string record_key(const InstanceAwareCounter& counter) {
    return base + ":flushed:" + counter.instance_id();
  }

  std::shared_ptr<LaxInstanceAwareCounter> peer;
};

}  // namespace distkit::test
