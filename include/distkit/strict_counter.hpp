// StrictCounter: every call is one atomic step in Redis.
#pragma once

#include <memory>

#include "distkit/counter.hpp"

namespace distkit {

// A Counter whose every call is one atomic Redis operation, immediately
// visible to every process sharing the Redis, in the cheapest exact form:
// inc/dec/inc_if with nil are one HINCRBY, get one HGET, set one HSET,
// get_all one HMGET, set_all one HSET; del, dec(key, INT64_MIN), the
// conditional calls and inc_all are one small Lua script invocation each
// (inc_all_if with only nil comparators runs as inc_all).
//
// Layout: hash `<prefix>:strict_counter`, field = key, value = the decimal
// int64; with CounterOptions::shards = N > 1, the key's shard's hash
// `{<prefix>:strict_counter:<i>}` instead. Exact over the whole int64 range
// (values never pass through a Lua number where it could be inexact). With
// one shard each batch call is one command or script invocation: all
// entries apply or none, with no other client's command between them. With
// N > 1 shards a batch is one such command or script invocation per shard
// it touches: each shard's entries apply all or none, atomically, but the
// shards' parts are independent, so when one shard's part fails (overflow,
// a non-integer field, WRONGTYPE) that shard is unchanged while the other
// shards' parts are applied, and the call throws the error of the
// lowest-numbered failing shard. clear() is one DEL per shard. A batch takes
// at most max_batch_entries entries (Errc::invalid_argument beyond, nothing
// sent). A failed inc_all and a missed inc_if undo what they applied by the
// inverse increment; a key they found at 0 is then left absent, which reads
// the same.
//
// Errors: Errc::overflow when a result would leave int64 (nothing changed);
// Errc::redis when Redis rejects the command, e.g. WRONGTYPE or a field that
// does not hold a decimal int64 (the message names the key);
// Errc::connection / Errc::timeout / Errc::closed from the client.
//
// Thread-safe. Holds no state besides the options, so it is cheap to create.
class StrictCounter final : public Counter {
 public:
  // Throws Error{Errc::invalid_argument} when options.client is null or
  // options.shards is outside 1..1024.
  static std::shared_ptr<StrictCounter> create(CounterOptions options);

  ~StrictCounter() override;

  std::int64_t inc(const RedisKey& key, std::int64_t count) override;
  std::int64_t dec(const RedisKey& key, std::int64_t count) override;
  std::int64_t get(const RedisKey& key) override;
  std::int64_t set(const RedisKey& key, std::int64_t count) override;
  std::int64_t del(const RedisKey& key) override;
  void clear() override;
  UpdateResult inc_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) override;
  UpdateResult set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) override;
  std::vector<std::int64_t> get_all(std::span<const RedisKey> keys) override;
  std::vector<std::int64_t> inc_all(std::span<const KeyCount> updates) override;
  std::vector<std::int64_t> set_all(std::span<const KeyCount> updates) override;
  std::vector<UpdateResult> inc_all_if(std::span<const ConditionalUpdate> updates) override;
  std::vector<UpdateResult> set_all_if(std::span<const ConditionalUpdate> updates) override;

 protected:
  void initiate_inc(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) override;
  void initiate_dec(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) override;
  void initiate_get(RedisKey key, Handler<std::int64_t> handler) override;
  void initiate_set(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) override;
  void initiate_del(RedisKey key, Handler<std::int64_t> handler) override;
  void initiate_clear(ClearHandler handler) override;
  void initiate_inc_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                       Handler<UpdateResult> handler) override;
  void initiate_set_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                       Handler<UpdateResult> handler) override;
  void initiate_get_all(std::vector<RedisKey> keys,
                        Handler<std::vector<std::int64_t>> handler) override;
  void initiate_inc_all(std::vector<KeyCount> updates,
                        Handler<std::vector<std::int64_t>> handler) override;
  void initiate_set_all(std::vector<KeyCount> updates,
                        Handler<std::vector<std::int64_t>> handler) override;
  void initiate_inc_all_if(std::vector<ConditionalUpdate> updates,
                           Handler<std::vector<UpdateResult>> handler) override;
  void initiate_set_all_if(std::vector<ConditionalUpdate> updates,
                           Handler<std::vector<UpdateResult>> handler) override;

 private:
  class Impl;
  explicit StrictCounter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace distkit
