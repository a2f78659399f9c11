// LaxCounter: increments buffered in-process and flushed on an interval.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "distkit/counter.hpp"

namespace distkit {
namespace detail {
struct LaxCounterAccess;
}  // namespace detail

// A snapshot of a LaxCounter's buffer and flusher.
struct LaxCounterStats {
  // Keys with a delta not yet acknowledged by Redis (buffered or in flight).
  std::size_t pending_keys = 0;
  // The sum of those deltas, saturated to the int64 range.
  std::int64_t pending_total = 0;
  // Flush chunks (one script call each) Redis acknowledged.
  std::uint64_t flushes = 0;
  // Flush chunks that failed and were kept for a retry.
  std::uint64_t failed_flushes = 0;
  // Deltas Redis can never take (the field holds a non-integer, or the sum
  // would leave int64): moved to the list `{<prefix>:lax_counter}:set_aside`
  // (with shards, the key's shard's `{<prefix>:lax_counter:<i>}:set_aside`)
  // as "<delta> <key>" entries and reported through the log hook.
  std::uint64_t set_aside = 0;
  // The error of the most recent failed flush call, if any.
  boost::system::error_code last_error;
  std::string last_error_message;
};

// A Counter for hot paths: inc/dec/inc_if and their batch forms apply to an
// in-process buffer and return at once; a background flusher sends what is
// pending to Redis, starting allowed_lag after its previous flush ended:
// each flush takes the keys queued at its start, oldest first, in chunks of
// 1,000 keys (one script call each, up to 4 in flight), so it always ends.
//
// Layout: hash `<prefix>:lax_counter`, field = key, value = the decimal
// int64. Auxiliary keys, in the hash's cluster slot:
// `{<prefix>:lax_counter}:flushed:<instance id>` records the last flush
// chunk this counter instance applied, so that a resent chunk is never
// applied twice (it expires an hour after that instance's last flush);
// `{<prefix>:lax_counter}:set_aside` lists "<delta> <key>" for deltas Redis
// can never take (the field holds a non-integer, or the sum leaves int64).
//
// With CounterOptions::shards = N > 1 each key lives in its shard's hash
// `{<prefix>:lax_counter:<i>}`, and every shard has its own auxiliary keys
// in its slot: `{<prefix>:lax_counter:<i>}:flushed:<instance id>` and
// `{<prefix>:lax_counter:<i>}:set_aside`. A flush chunk then holds keys of
// one shard only and is numbered in that shard's own sequence, so each
// chunk is applied exactly once per shard, as above. Immediate batches
// (set_all, set_all_if) are one script call per shard they touch, each
// atomic on its own: a shard whose part fails (e.g. overflow) is left
// unchanged while the other shards' parts apply, and the call throws the
// error of the lowest-numbered failing shard, keeping the pending deltas of
// that shard's keys. get_all reads with one HMGET per shard. inc_all and
// inc_all_if stay all-or-nothing (they are local). clear() is one DEL per
// shard: the shard's hash, its set-aside list and this instance's flush
// record (other instances' records expire on their own).
//
// Reads (get, get_all) return the local view: the last known Redis value plus
// this process's pending delta; a Redis value older than allowed_lag is
// fetched again first (one HMGET shared by the stale reads queued for it). inc_if
// compares against the local view. The first touch of a key fetches its
// Redis value once (this needs Redis); after that increments on the key need
// no network and keep being accepted while Redis is down.
//
// Memory: a key that is settled (nothing pending or in flight) and that the
// flusher has not seen busy for 60 seconds is freed; its next use is a first
// touch again (one HMGET), so nothing is lost.
//
// set, set_if, set_all, set_all_if, del and clear act on Redis at once and
// override this process's pending delta for those keys, including a delta
// already sent in a flush whose reply has not arrived; they wait behind at
// most one flush. Their comparisons and del's result include this process's
// pending delta.
//
// Errors: inc whose local view would leave int64 → Errc::overflow, nothing
// buffered (a batch takes back its earlier entries). set_if/set_all_if/del
// whose value including the pending delta leaves int64 → Errc::overflow,
// nothing changed. Other immediate failures are StrictCounter's; when such a
// call fails without an answer from Redis (timeout, connection) the pending
// delta it would have overridden is kept, so nothing is lost. A flush that
// fails is retried until Redis takes it; a delta Redis can never take is set
// aside (see above), counted in stats() and logged. After Client::close()
// every call fails at once with Errc::closed.
//
// Thread-safe.
class LaxCounter final : public Counter {
 public:
  // Starts the flusher on the client's executor. Throws
  // Error{Errc::invalid_argument} when allowed_lag <= 0, the client is null
  // or options.shards is outside 1..1024.
  static std::shared_ptr<LaxCounter> create(CounterOptions options);

  // Flushes what is pending and stops the flusher, taking at most twice the
  // client's command_timeout in all. Increments that could not be delivered
  // in that time are reported (with their count) through the log hook (see
  // log.hpp). The key slots are freed afterwards on the client's executor.
  // Do not destroy a LaxCounter on the client's executor.
  ~LaxCounter() override;

  // Returns once every increment accepted before the call is in Redis.
  // Throws Error{Errc::connection}, Error{Errc::timeout} or
  // Error{Errc::redis} (e.g. WRONGTYPE) when Redis cannot take them within
  // the command timeout; the deltas stay buffered and are retried in the
  // background.
  void flush();

  LaxCounterStats stats() const;

  std::int64_t inc(const RedisKey& key, std::int64_t count) override;
  std::int64_t dec(const RedisKey& key, std::int64_t count) override;
  std::int64_t get(const RedisKey& key) override;
  std::int64_t set(const RedisKey& key, std::int64_t count) override;
  std::int64_t del(const RedisKey& key) override;
  void clear() override;
  UpdateResult inc_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) override;
  UpdateResult set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) override;
  std::vector<std::int64_t> get_all(std::span<const RedisKey> keys) override;
  // Applies the entries in order; if one would overflow, the earlier ones
  // are taken back and Errc::overflow is thrown.
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
  friend struct detail::LaxCounterAccess;
  class Impl;
  LaxCounter(std::shared_ptr<Client> client, std::shared_ptr<Impl> impl);
  std::shared_ptr<Client> client_;  // keeps the I/O thread alive while the counter is usable
  std::shared_ptr<Impl> impl_;
};

}  // namespace distkit
