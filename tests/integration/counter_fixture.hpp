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
#include <vector>

#include "counters/shard_layout.hpp"
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

// CounterOptions::shards of the counters under test: DISTKIT_SHARDS when the
// test target defines it (the contract then runs against sharded counters).
#ifdef DISTKIT_SHARDS
inline constexpr int test_shards = DISTKIT_SHARDS;
#else
inline constexpr int test_shards = 1;
#endif

template <class Flavour>
std::shared_ptr<Flavour> make_counter(const RedisKey& prefix, std::shared_ptr<Client> client,
                                      int shards = test_shards) {
  CounterOptions options(prefix, std::move(client));
  options.shards = shards;
  return Flavour::create(options);
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

// The hashes of a counter of `Flavour` with `shards` shards, as the README
// spells them: `<prefix>:<kind>` for one, `{<prefix>:<kind>:<i>}` for more.
template <class Flavour>
std::vector<std::string> hashes_of(const RedisKey& prefix, int shards) {
  if (shards == 1) return {hash_of<Flavour>(prefix)};
  std::vector<std::string> hashes;
  for (int i = 0; i < shards; ++i) {
    hashes.push_back("{" + hash_of<Flavour>(prefix) + ":" + std::to_string(i) + "}");
  }
  return hashes;
}

// The hash holding `key` (the shard function is pinned to published FNV-1a
// values by the unit tests).
template <class Flavour>
std::string hash_of_key(const RedisKey& prefix, int shards, const std::string& key) {
  return hashes_of<Flavour>(prefix, shards)[detail::shard_of_key(key, shards)];
}

// How many of `keys` exist, as redis-cli prints it.
inline std::string existing(const std::string& url, const std::vector<std::string>& keys) {
  std::vector<std::string> args{"EXISTS"};
  args.insert(args.end(), keys.begin(), keys.end());
  return redis_cli(url, args);
}

// The number of fields over `hashes`, as text.
inline std::string field_count(const std::string& url, const std::vector<std::string>& hashes) {
  std::int64_t total = 0;
  for (const std::string& hash : hashes) total += std::stoll(redis_cli(url, {"HLEN", hash}));
  return std::to_string(total);
}

template <class Flavour>
class CounterTest : public testing::Test {
 protected:
  void SetUp() override {
    client = Client::connect(redis_url());
    prefix = std::make_unique<RedisKey>(unique_prefix());
    counter = make_counter<Flavour>(*prefix, client);
    hash = hash_of<Flavour>(*prefix);
    hashes = hashes_of<Flavour>(*prefix, test_shards);
  }
  void TearDown() override {
    if (counter && client) {
      try {
        counter->clear();
      } catch (const Error&) {
        // The test may have broken a hash on purpose (WRONGTYPE).
        for (const std::string& broken : hashes) redis_cli(redis_url(), {"DEL", broken});
      }
    }
  }

  // The value Redis holds for `key`, read by another process.
  std::string redis_value(const std::string& key) {
    return redis_cli(redis_url(), {"HGET", hash_for(key), key});
  }
  // The first of "<stem>0", "<stem>1", ... in the shard of `key`.
  static std::string key_in_shard_of(const std::string& key, const std::string& stem) {
    for (int i = 0;; ++i) {
      std::string candidate = stem + std::to_string(i);
      if (detail::shard_of_key(candidate, test_shards) == detail::shard_of_key(key, test_shards)) {
        return candidate;
      }
    }
  }
  // The hash that holds `key`.
  std::string hash_for(const std::string& key) const {
    return hash_of_key<Flavour>(*prefix, test_shards, key);
  }

  std::shared_ptr<Client> client;
  std::unique_ptr<RedisKey> prefix;
  std::shared_ptr<Flavour> counter;
  std::string hash;                 // with test_shards == 1: the counter's hash
  std::vector<std::string> hashes;  // every hash of the counter
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
