// Shared setup of the counter behaviour tests: a Client on the test Redis, a
// unique prefix per test, and an independent observer (redis-cli).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <distkit/distkit.hpp>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "test_env.hpp"

namespace distkit::test {

// Calls `call` until it no longer throws distkit::Error or `timeout` passes;
// returns whether it succeeded. For waiting out a Redis restart or stall.
inline bool eventually(const std::function<void()>& call, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        try {
          call();
          return true;
        } catch (const Error&) {
          return false;
        }
      },
      timeout);
}

// A client of `url` whose commands time out after `command_timeout`.
inline std::shared_ptr<Client> connect_with_timeout(const std::string& url,
                                                    std::chrono::milliseconds command_timeout) {
  ClientOptions options;
  options.url = url;
  options.command_timeout = command_timeout;
  return Client::connect(options);
}

// Client::connect(options) must fail with Errc::connection; returns what()
// for the test to check the reason (empty when it connected).
inline std::string connect_failure(const ClientOptions& options) {
  try {
    Client::connect(options);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::connection) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "connected to " << options.url;
  return {};
}

template <class Flavour>
std::shared_ptr<Flavour> make_counter(const RedisKey& prefix, std::shared_ptr<Client> client) {
  return Flavour::create(CounterOptions(prefix, std::move(client)));
}

// A LaxCounter flushing every `lag`.
inline std::shared_ptr<LaxCounter> lax_with_lag(const RedisKey& prefix,
                                                std::shared_ptr<Client> client,
                                                std::chrono::milliseconds lag) {
  CounterOptions options(prefix, std::move(client));
  options.allowed_lag = lag;
  return LaxCounter::create(options);
}

// The Redis hash a counter of `Flavour` keeps its values in.
template <class Flavour>
std::string hash_of(const RedisKey& prefix) {
  return prefix.str() + (std::is_same_v<Flavour, LaxCounter> ? ":lax_counter" : ":strict_counter");
}

template <class Flavour>
class CounterTest : public testing::Test {
 protected:
  void SetUp() override {
    client = Client::connect(redis_url());
    prefix = std::make_unique<RedisKey>(unique_prefix());
    counter = make_counter<Flavour>(*prefix, client);
    hash = hash_of<Flavour>(*prefix);
  }
  void TearDown() override {
    if (counter && client) {
      try {
        counter->clear();
      } catch (const Error&) {
        // The test may have broken the hash on purpose (WRONGTYPE).
        redis_cli(redis_url(), {"DEL", hash});
      }
    }
  }

  // The value Redis holds for `key`, read by another process.
  std::string redis_value(const std::string& key) {
    return redis_cli(redis_url(), {"HGET", hash, key});
  }

  std::shared_ptr<Client> client;
  std::unique_ptr<RedisKey> prefix;
  std::shared_ptr<Flavour> counter;
  std::string hash;
};

// Expects `statement` to throw distkit::Error with `errc`.
#define EXPECT_DISTKIT_ERROR(statement, errc)                          \
  do {                                                                 \
    try {                                                              \
      statement;                                                       \
      ADD_FAILURE() << #statement " did not throw";                    \
    } catch (const ::distkit::Error& distkit_error_) {                 \
      EXPECT_EQ(distkit_error_.code(), errc) << distkit_error_.what(); \
    }                                                                  \
  } while (false)

}  // namespace distkit::test
