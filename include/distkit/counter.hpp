// Counter: the interface both counter flavours implement.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "distkit/client.hpp"
#include "distkit/comparator.hpp"
#include "distkit/detail/async_initiate.hpp"
#include "distkit/redis_key.hpp"

namespace distkit {

struct CounterOptions {
  CounterOptions(RedisKey counter_prefix, std::shared_ptr<Client> shared_client)
      : prefix(std::move(counter_prefix)), client(std::move(shared_client)) {}

  // Names the counter's Redis keys: `<prefix>:strict_counter` or
  // `<prefix>:lax_counter` (with shards > 1, see below).
  RedisKey prefix;
  // The connection to use; must not be null.
  std::shared_ptr<Client> client;
  // LaxCounter's flush interval and the staleness its reads tolerate. Must
  // be positive. StrictCounter ignores it.
  std::chrono::milliseconds allowed_lag{20};
  // Number of Redis hashes the counter's keys are spread over, from 1 to
  // 1024 (create() throws Error{Errc::invalid_argument} otherwise). 1
  // (default) is the layout shared with the Rust distkit: one hash
  // `<prefix>:<kind>`. N > 1 spreads one counter over the N hashes
  // `{<prefix>:<kind>:<i>}`, i = 0..N-1, each in its own Redis Cluster hash
  // slot, so that on a cluster a single large or hot counter uses every
  // master. A key's hash is i = FNV-1a 64 of the key's bytes, modulo N: the
  // same in every process and version. Every process sharing a counter must
  // use the same `shards`; a different value is a different counter.
  //
  // What is atomic with N > 1: each single-key call is atomic as before. A
  // batch is split per shard: the entries of one shard are one command or
  // script invocation, atomic on their own, the shards' parts are sent
  // together and are not atomic as a whole. When one shard's part fails
  // (e.g. Errc::overflow) that part changes nothing, the other shards'
  // parts apply (or fail) on their own, and the call fails with the error
  // of the lowest-numbered failing shard. Results keep input order; a key
  // repeated in a batch stays in its shard, so its entries still apply in
  // order. clear() deletes every shard's hash and auxiliary keys, one
  // command per shard.
  int shards = 1;
};

// The outcome of a conditional update. `applied` says whether the comparator
// matched and the write happened; `previous` is the value the comparator was
// checked against and `value` the value after the call (== previous when not
// applied).
struct UpdateResult {
  std::int64_t value;
  std::int64_t previous;
  bool applied;
  friend bool operator==(const UpdateResult&, const UpdateResult&) = default;
};

// The most entries (keys, for get_all) one batch call takes. A StrictCounter
// batch is one atomic step that holds Redis for its whole length, every other
// client waiting meanwhile; at this size that stays well under the default
// command timeout. A larger batch fails with Errc::invalid_argument before
// anything is sent: split it into calls of at most this many entries (each
// call then atomic on its own).
inline constexpr std::size_t max_batch_entries = 100'000;

struct KeyCount {
  RedisKey key;
  std::int64_t count;
};

struct ConditionalUpdate {
  RedisKey key;
  CounterComparator comparator;
  std::int64_t count;
};

// The operations every counter offers, so code written against Counter takes
// either flavour. Keys live in one Redis hash per counter, or one per shard
// (see CounterOptions::shards and the implementations for the exact layout).
//
// Blocking methods throw Error; see each implementation for which Errc. They
// wait on the client's I/O, so never call them from the client's executor
// (a handler or coroutine running there): use the async_ forms instead.
//
// Every operation has an async_<name> form in Asio's completion-token model,
// completing with void(error_code, T) (void(error_code) for clear). Any token
// works: a callback, use_future, use_awaitable, deferred. Arguments are
// copied when the operation is initiated; the counter must outlive the
// operation. The handler runs on its associated executor (the client's
// executor when it has none).
//
// Thread-safe: all methods may be called concurrently.
class Counter {
 public:
  template <class T>
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code, T)>;
  using ClearHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  virtual ~Counter();

  // Adds `count` (which may be negative) and returns the new value.
  virtual std::int64_t inc(const RedisKey& key, std::int64_t count) = 0;
  // inc(key, -count); dec(key, INT64_MIN) adds 2^63 exactly.
  virtual std::int64_t dec(const RedisKey& key, std::int64_t count) = 0;
  // The value; 0 for a key never written.
  virtual std::int64_t get(const RedisKey& key) = 0;
  // Stores `count` and returns it.
  virtual std::int64_t set(const RedisKey& key, std::int64_t count) = 0;
  // Removes the key and returns the value it had (0 if none).
  virtual std::int64_t del(const RedisKey& key) = 0;
  // Removes every key of this counter (its Redis hash and auxiliary keys).
  virtual void clear() = 0;
  // inc / set, applied only when `cmp` matches the current value.
  virtual UpdateResult inc_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) = 0;
  virtual UpdateResult set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) = 0;

  // Batches: results in input order; a key may appear several times and its
  // entries then apply one after another, in order. An empty batch returns
  // an empty result at once; one of more than max_batch_entries entries fails
  // with Errc::invalid_argument and sends nothing. With shards > 1 a batch is
  // atomic per shard only (see CounterOptions::shards).
  virtual std::vector<std::int64_t> get_all(std::span<const RedisKey> keys) = 0;
  virtual std::vector<std::int64_t> inc_all(std::span<const KeyCount> updates) = 0;
  virtual std::vector<std::int64_t> set_all(std::span<const KeyCount> updates) = 0;
  virtual std::vector<UpdateResult> inc_all_if(std::span<const ConditionalUpdate> updates) = 0;
  virtual std::vector<UpdateResult> set_all_if(std::span<const ConditionalUpdate> updates) = 0;

  template <class Token>
  auto async_inc(const RedisKey& key, std::int64_t count, Token&& token) {
    return initiate<std::int64_t>(&Counter::initiate_inc, std::forward<Token>(token), key, count);
  }
  template <class Token>
  auto async_dec(const RedisKey& key, std::int64_t count, Token&& token) {
    return initiate<std::int64_t>(&Counter::initiate_dec, std::forward<Token>(token), key, count);
  }
  template <class Token>
  auto async_get(const RedisKey& key, Token&& token) {
    return initiate<std::int64_t>(&Counter::initiate_get, std::forward<Token>(token), key);
  }
  template <class Token>
  auto async_set(const RedisKey& key, std::int64_t count, Token&& token) {
    return initiate<std::int64_t>(&Counter::initiate_set, std::forward<Token>(token), key, count);
  }
  template <class Token>
  auto async_del(const RedisKey& key, Token&& token) {
    return initiate<std::int64_t>(&Counter::initiate_del, std::forward<Token>(token), key);
  }
  template <class Token>
  auto async_clear(Token&& token) {
    return detail::async_initiate_erased_void(this, &Counter::initiate_clear,
                                              std::forward<Token>(token));
  }
  template <class Token>
  auto async_inc_if(const RedisKey& key, CounterComparator cmp, std::int64_t count, Token&& token) {
    return initiate<UpdateResult>(&Counter::initiate_inc_if, std::forward<Token>(token), key, cmp,
                                  count);
  }
  template <class Token>
  auto async_set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count, Token&& token) {
    return initiate<UpdateResult>(&Counter::initiate_set_if, std::forward<Token>(token), key, cmp,
                                  count);
  }
  template <class Token>
  auto async_get_all(std::span<const RedisKey> keys, Token&& token) {
    return initiate<std::vector<std::int64_t>>(&Counter::initiate_get_all,
                                               std::forward<Token>(token),
                                               std::vector<RedisKey>(keys.begin(), keys.end()));
  }
  template <class Token>
  auto async_inc_all(std::span<const KeyCount> updates, Token&& token) {
    return initiate<std::vector<std::int64_t>>(
        &Counter::initiate_inc_all, std::forward<Token>(token),
        std::vector<KeyCount>(updates.begin(), updates.end()));
  }
  template <class Token>
  auto async_set_all(std::span<const KeyCount> updates, Token&& token) {
    return initiate<std::vector<std::int64_t>>(
        &Counter::initiate_set_all, std::forward<Token>(token),
        std::vector<KeyCount>(updates.begin(), updates.end()));
  }
  template <class Token>
  auto async_inc_all_if(std::span<const ConditionalUpdate> updates, Token&& token) {
    return initiate<std::vector<UpdateResult>>(
        &Counter::initiate_inc_all_if, std::forward<Token>(token),
        std::vector<ConditionalUpdate>(updates.begin(), updates.end()));
  }
  template <class Token>
  auto async_set_all_if(std::span<const ConditionalUpdate> updates, Token&& token) {
    return initiate<std::vector<UpdateResult>>(
        &Counter::initiate_set_all_if, std::forward<Token>(token),
        std::vector<ConditionalUpdate>(updates.begin(), updates.end()));
  }

 protected:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // The type-erased starts of the async operations. Implementations complete
  // `handler` exactly once, on its associated executor.
  virtual void initiate_inc(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) = 0;
  virtual void initiate_dec(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) = 0;
  virtual void initiate_get(RedisKey key, Handler<std::int64_t> handler) = 0;
  virtual void initiate_set(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) = 0;
  virtual void initiate_del(RedisKey key, Handler<std::int64_t> handler) = 0;
  virtual void initiate_clear(ClearHandler handler) = 0;
  virtual void initiate_inc_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                               Handler<UpdateResult> handler) = 0;
  virtual void initiate_set_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                               Handler<UpdateResult> handler) = 0;
  virtual void initiate_get_all(std::vector<RedisKey> keys,
                                Handler<std::vector<std::int64_t>> handler) = 0;
  virtual void initiate_inc_all(std::vector<KeyCount> updates,
                                Handler<std::vector<std::int64_t>> handler) = 0;
  virtual void initiate_set_all(std::vector<KeyCount> updates,
                                Handler<std::vector<std::int64_t>> handler) = 0;
  virtual void initiate_inc_all_if(std::vector<ConditionalUpdate> updates,
                                   Handler<std::vector<UpdateResult>> handler) = 0;
  virtual void initiate_set_all_if(std::vector<ConditionalUpdate> updates,
                                   Handler<std::vector<UpdateResult>> handler) = 0;

 private:
  template <class T, class Start, class Token, class... Args>
  auto initiate(Start start, Token&& token, Args&&... args) {
    return detail::async_initiate_erased<T>(this, start, std::forward<Token>(token),
                                            std::forward<Args>(args)...);
  }
};

}  // namespace distkit
