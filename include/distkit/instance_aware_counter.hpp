// InstanceAwareCounter: per-process slices of every key with a cluster-wide
// total, from which dead processes are removed.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "distkit/client.hpp"
#include "distkit/comparator.hpp"
#include "distkit/counter.hpp"
#include "distkit/detail/async_initiate.hpp"
#include "distkit/redis_key.hpp"

namespace distkit {

// What most calls return: the total over the live instances and this
// instance's slice of it.
struct InstanceCount {
  std::int64_t cumulative;
  std::int64_t instance;
  friend bool operator==(const InstanceCount&, const InstanceCount&) = default;
};

// The outcome of a conditional call. `previous` is what the comparator was
// checked against (the cumulative or the slice, as the call says), `value`
// the pair after the call (== previous when not applied).
struct InstanceUpdateResult {
  InstanceCount value;
  InstanceCount previous;
  bool applied;
  friend bool operator==(const InstanceUpdateResult&, const InstanceUpdateResult&) = default;
};

struct InstanceAwareCounterOptions {
  InstanceAwareCounterOptions(RedisKey counter_prefix, std::shared_ptr<Client> shared_client)
      : prefix(std::move(counter_prefix)), client(std::move(shared_client)) {}

  // Names the counter's Redis keys: `<prefix>:instance_aware_counter:*` for
  // a StrictInstanceAwareCounter, `<prefix>:lax_instance_aware_counter:*` for
  // a LaxInstanceAwareCounter (two counters, as in the Rust distkit). On
  // Redis Cluster every one of them must share a slot, so the prefix needs
  // a hash tag such as `{app}`.
  RedisKey prefix;
  // The connection to use; must not be null.
  std::shared_ptr<Client> client;
  // An instance that has not heartbeated for this long is dead and the next
  // call of any other instance removes its slices. Must be positive. The
  // heartbeat runs every third of it.
  std::chrono::milliseconds dead_instance_threshold{30000};
  // LaxInstanceAwareCounter's flush interval and read staleness; must be
  // positive. The strict counter ignores it.
  std::chrono::milliseconds allowed_lag{20};
};

// The operations every instance-aware counter offers.
//
// Each process (instance, named by instance_id()) owns a slice of every key;
// a key's cumulative is the sum of the slices of the live instances. Calls
// return both. `set` and `del` are global: they reset the key for every
// instance. `set_on_instance`, `del_on_instance` and `clear_on_instance`
// touch only this instance's slices (the cumulative moves with them).
//
// Liveness: every call and a background heartbeat (every third of
// dead_instance_threshold while the counter lives) record the instance's
// last heartbeat. An instance silent for longer than the threshold is dead:
// the next call of any other instance (or its heartbeat) subtracts the dead
// instance's slices from the cumulatives and forgets it. A process that
// shuts down gracefully calls clear_on_instance() first, so that its slices
// go at once.
//
// Blocking methods throw Error: Errc::overflow when a result would leave
// int64 (nothing changed), Errc::redis when Redis rejects a command or a
// value is not a decimal int64 (the message names the key),
// Errc::connection / Errc::timeout / Errc::closed from the client. Never call
// them from the client's executor; use the async_ forms there.
//
// Every operation has an async_<name> form in Asio's completion-token model,
// completing with void(error_code, T) (void(error_code) for clear and
// clear_on_instance). Arguments are copied when the operation is initiated;
// the counter must outlive the operation.
//
// Thread-safe: all methods may be called concurrently.
class InstanceAwareCounter {
 public:
  template <class T>
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code, T)>;
  using ClearHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  virtual ~InstanceAwareCounter();

  // This instance's id: a UUID v4 in text form, made at creation.
  virtual const std::string& instance_id() const noexcept = 0;

  // Adds `count` (may be negative) to this instance's slice and the
  // cumulative. dec(key, n) is inc(key, -n) (INT64_MIN included).
  virtual InstanceCount inc(const RedisKey& key, std::int64_t count) = 0;
  virtual InstanceCount dec(const RedisKey& key, std::int64_t count) = 0;
  // {0, 0} for a key never written.
  virtual InstanceCount get(const RedisKey& key) = 0;
  // Global: cumulative = this slice = count; every other instance's slice of
  // the key is reset to 0 and the key's epoch bumped.
  virtual InstanceCount set(const RedisKey& key, std::int64_t count) = 0;
  // This slice = count; the cumulative moves by the difference.
  virtual InstanceCount set_on_instance(const RedisKey& key, std::int64_t count) = 0;
  // Global: removes the key's cumulative and every slice, bumps the epoch;
  // returns the values it had.
  virtual InstanceCount del(const RedisKey& key) = 0;
  // Removes this instance's slice; returns {cumulative after, slice removed}.
  virtual InstanceCount del_on_instance(const RedisKey& key) = 0;
  // Removes everything of this counter, every instance's slices included.
  virtual void clear() = 0;
  // Removes all of this instance's slices (from the cumulatives too).
  virtual void clear_on_instance() = 0;
  // inc / set when `cmp` matches the cumulative.
  virtual InstanceUpdateResult inc_if(const RedisKey& key, CounterComparator cmp,
                                      std::int64_t count) = 0;
  virtual InstanceUpdateResult set_if(const RedisKey& key, CounterComparator cmp,
                                      std::int64_t count) = 0;
  // set_on_instance when `cmp` matches this instance's slice.
  virtual InstanceUpdateResult set_on_instance_if(const RedisKey& key, CounterComparator cmp,
                                                  std::int64_t count) = 0;

  // Batches: results in input order; a key may appear several times and its
  // entries then apply one after another. An empty batch returns at once.
  virtual std::vector<InstanceCount> get_all(std::span<const RedisKey> keys) = 0;
  virtual std::vector<InstanceCount> inc_all(std::span<const KeyCount> updates) = 0;
  virtual std::vector<InstanceCount> set_all(std::span<const KeyCount> updates) = 0;
  virtual std::vector<InstanceCount> set_all_on_instance(std::span<const KeyCount> updates) = 0;
  virtual std::vector<InstanceUpdateResult> inc_all_if(
      std::span<const ConditionalUpdate> updates) = 0;
  virtual std::vector<InstanceUpdateResult> set_all_if(
      std::span<const ConditionalUpdate> updates) = 0;
  virtual std::vector<InstanceUpdateResult> set_all_on_instance_if(
      std::span<const ConditionalUpdate> updates) = 0;

  template <class Token>
  auto async_inc(const RedisKey& key, std::int64_t count, Token&& token) {
    return initiate<InstanceCount>(&InstanceAwareCounter::initiate_inc, std::forward<Token>(token),
                                   key, count);
  }
  template <class Token>
  auto async_dec(const RedisKey& key, std::int64_t count, Token&& token) {
    return initiate<InstanceCount>(&InstanceAwareCounter::initiate_dec, std::forward<Token>(token),
                                   key, count);
  }
  template <class Token>
  auto async_get(const RedisKey& key, Token&& token) {
    return initiate<InstanceCount>(&InstanceAwareCounter::initiate_get, std::forward<Token>(token),
                                   key);
  }
  template <class Token>
  auto async_set(const RedisKey& key, std::int64_t count, Token&& token) {
    return initiate<InstanceCount>(&InstanceAwareCounter::initiate_set, std::forward<Token>(token),
                                   key, count);
  }
  template <class Token>
  auto async_set_on_instance(const RedisKey& key, std::int64_t count, Token&& token) {
    return initiate<InstanceCount>(&InstanceAwareCounter::initiate_set_on_instance,
                                   std::forward<Token>(token), key, count);
  }
  template <class Token>
  auto async_del(const RedisKey& key, Token&& token) {
    return initiate<InstanceCount>(&InstanceAwareCounter::initiate_del, std::forward<Token>(token),
                                   key);
  }
  template <class Token>
  auto async_del_on_instance(const RedisKey& key, Token&& token) {
    return initiate<InstanceCount>(&InstanceAwareCounter::initiate_del_on_instance,
                                   std::forward<Token>(token), key);
  }
  template <class Token>
  auto async_clear(Token&& token) {
    return detail::async_initiate_erased_void(this, &InstanceAwareCounter::initiate_clear,
                                              std::forward<Token>(token));
  }
  template <class Token>
  auto async_clear_on_instance(Token&& token) {
    return detail::async_initiate_erased_void(
        this, &InstanceAwareCounter::initiate_clear_on_instance, std::forward<Token>(token));
  }
  template <class Token>
  auto async_inc_if(const RedisKey& key, CounterComparator cmp, std::int64_t count, Token&& token) {
    return initiate<InstanceUpdateResult>(&InstanceAwareCounter::initiate_inc_if,
                                          std::forward<Token>(token), key, cmp, count);
  }
  template <class Token>
  auto async_set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count, Token&& token) {
    return initiate<InstanceUpdateResult>(&InstanceAwareCounter::initiate_set_if,
                                          std::forward<Token>(token), key, cmp, count);
  }
  template <class Token>
  auto async_set_on_instance_if(const RedisKey& key, CounterComparator cmp, std::int64_t count,
                                Token&& token) {
    return initiate<InstanceUpdateResult>(&InstanceAwareCounter::initiate_set_on_instance_if,
                                          std::forward<Token>(token), key, cmp, count);
  }
  template <class Token>
  auto async_get_all(std::span<const RedisKey> keys, Token&& token) {
    return initiate<std::vector<InstanceCount>>(&InstanceAwareCounter::initiate_get_all,
                                                std::forward<Token>(token),
                                                std::vector<RedisKey>(keys.begin(), keys.end()));
  }
  template <class Token>
  auto async_inc_all(std::span<const KeyCount> updates, Token&& token) {
    return initiate<std::vector<InstanceCount>>(
        &InstanceAwareCounter::initiate_inc_all, std::forward<Token>(token),
        std::vector<KeyCount>(updates.begin(), updates.end()));
  }
  template <class Token>
  auto async_set_all(std::span<const KeyCount> updates, Token&& token) {
    return initiate<std::vector<InstanceCount>>(
        &InstanceAwareCounter::initiate_set_all, std::forward<Token>(token),
        std::vector<KeyCount>(updates.begin(), updates.end()));
  }
  template <class Token>
  auto async_set_all_on_instance(std::span<const KeyCount> updates, Token&& token) {
    return initiate<std::vector<InstanceCount>>(
        &InstanceAwareCounter::initiate_set_all_on_instance, std::forward<Token>(token),
        std::vector<KeyCount>(updates.begin(), updates.end()));
  }
  template <class Token>
  auto async_inc_all_if(std::span<const ConditionalUpdate> updates, Token&& token) {
    return initiate<std::vector<InstanceUpdateResult>>(
        &InstanceAwareCounter::initiate_inc_all_if, std::forward<Token>(token),
        std::vector<ConditionalUpdate>(updates.begin(), updates.end()));
  }
  template <class Token>
  auto async_set_all_if(std::span<const ConditionalUpdate> updates, Token&& token) {
    return initiate<std::vector<InstanceUpdateResult>>(
        &InstanceAwareCounter::initiate_set_all_if, std::forward<Token>(token),
        std::vector<ConditionalUpdate>(updates.begin(), updates.end()));
  }
  template <class Token>
  auto async_set_all_on_instance_if(std::span<const ConditionalUpdate> updates, Token&& token) {
    return initiate<std::vector<InstanceUpdateResult>>(
        &InstanceAwareCounter::initiate_set_all_on_instance_if, std::forward<Token>(token),
        std::vector<ConditionalUpdate>(updates.begin(), updates.end()));
  }

 protected:
  InstanceAwareCounter() = default;
  InstanceAwareCounter(const InstanceAwareCounter&) = delete;
  InstanceAwareCounter& operator=(const InstanceAwareCounter&) = delete;

  // The type-erased starts of the async operations. Implementations complete
  // `handler` exactly once, on its associated executor.
  virtual void initiate_inc(RedisKey key, std::int64_t count, Handler<InstanceCount> handler) = 0;
  virtual void initiate_dec(RedisKey key, std::int64_t count, Handler<InstanceCount> handler) = 0;
  virtual void initiate_get(RedisKey key, Handler<InstanceCount> handler) = 0;
  virtual void initiate_set(RedisKey key, std::int64_t count, Handler<InstanceCount> handler) = 0;
  virtual void initiate_set_on_instance(RedisKey key, std::int64_t count,
                                        Handler<InstanceCount> handler) = 0;
  virtual void initiate_del(RedisKey key, Handler<InstanceCount> handler) = 0;
  virtual void initiate_del_on_instance(RedisKey key, Handler<InstanceCount> handler) = 0;
  virtual void initiate_clear(ClearHandler handler) = 0;
  virtual void initiate_clear_on_instance(ClearHandler handler) = 0;
  virtual void initiate_inc_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                               Handler<InstanceUpdateResult> handler) = 0;
  virtual void initiate_set_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                               Handler<InstanceUpdateResult> handler) = 0;
  virtual void initiate_set_on_instance_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                                           Handler<InstanceUpdateResult> handler) = 0;
  virtual void initiate_get_all(std::vector<RedisKey> keys,
                                Handler<std::vector<InstanceCount>> handler) = 0;
  virtual void initiate_inc_all(std::vector<KeyCount> updates,
                                Handler<std::vector<InstanceCount>> handler) = 0;
  virtual void initiate_set_all(std::vector<KeyCount> updates,
                                Handler<std::vector<InstanceCount>> handler) = 0;
  virtual void initiate_set_all_on_instance(std::vector<KeyCount> updates,
                                            Handler<std::vector<InstanceCount>> handler) = 0;
  virtual void initiate_inc_all_if(std::vector<ConditionalUpdate> updates,
                                   Handler<std::vector<InstanceUpdateResult>> handler) = 0;
  virtual void initiate_set_all_if(std::vector<ConditionalUpdate> updates,
                                   Handler<std::vector<InstanceUpdateResult>> handler) = 0;
  virtual void initiate_set_all_on_instance_if(
      std::vector<ConditionalUpdate> updates,
      Handler<std::vector<InstanceUpdateResult>> handler) = 0;

 private:
  template <class T, class Start, class Token, class... Args>
  auto initiate(Start start, Token&& token, Args&&... args) {
    return detail::async_initiate_erased<T>(this, start, std::forward<Token>(token),
                                            std::forward<Args>(args)...);
  }
};

}  // namespace distkit
