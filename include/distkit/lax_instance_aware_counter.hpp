// LaxInstanceAwareCounter: the instance-aware counter with LaxCounter's
// buffered increments.
#pragma once

#include <memory>
#include <string>

#include "distkit/instance_aware_counter.hpp"
#include "distkit/lax_counter.hpp"
#include "distkit/strict_instance_aware_counter.hpp"

namespace distkit {

// An InstanceAwareCounter whose increments are buffered in the process.
//
// inc/dec (and inc_if, inc_all, inc_all_if) apply to an in-process buffer
// and return at once once a key is warm (its pair read from Redis): no
// network. A background flusher sends the pending deltas to this instance's
// slices and the cumulatives every allowed_lag, in chunks applied exactly
// once (a numbered chunk per instance, recorded in Redis in `C:flushed:<id>`
// (C: see Layout below), which expires an hour after the last flush), so a retried chunk never
// counts twice. A delta Redis can never take (a field holding a
// non-integer, a sum leaving int64) is logged and set aside in
// `C:set_aside` ("<delta> <key>" entries) instead of blocking the others.
//
// get/get_all return the last pair read from Redis plus the pending delta,
// refreshed when older than allowed_lag. inc_if compares that estimate of
// the cumulative. Increments that would take the slice or the estimate of
// the cumulative out of int64 fail with Errc::overflow, buffering nothing.
//
// Global writes (set, del, clear, set_if, set_all(_if)) and on-instance
// writes (set_on_instance(_if), del_on_instance, set_all_on_instance(_if),
// clear_on_instance) first flush what is pending, then run at once as the
// calls of a StrictInstanceAwareCounter on this counter's layout; increments
// made while they run are flushed after them.
//
// Layout: StrictInstanceAwareCounter's keys and meanings (epoch, instances,
// cumulative, keys, count:<id>, slice_epoch:<id>), under
// C = `<prefix>:lax_instance_aware_counter` instead of
// `<prefix>:instance_aware_counter`, plus the lax-only `C:flushed:<id>` and
// `C:set_aside` above. That is the Rust distkit's choice: its lax counter
// runs on a strict one created with the key type
// `lax_instance_aware_counter`, so that it does not collide with a strict
// counter of the same prefix. So a C++ lax instance counts together with
// other lax instances, C++ or Rust, and a strict and a lax counter on one
// prefix are two counters that never see each other's slices. Heartbeats,
// immediate calls and the removal of dead instances are those of a strict
// counter on C. The destructor drains the buffer within 2 x the client's
// command timeout, as LaxCounter's.
class LaxInstanceAwareCounter final : public InstanceAwareCounter {
 public:
  // Throws Error{Errc::invalid_argument} when options.client is null or
  // options.dead_instance_threshold or options.allowed_lag is not positive.
  static std::shared_ptr<LaxInstanceAwareCounter> create(InstanceAwareCounterOptions options);

  // Returns once every increment accepted before the call is in Redis;
  // throws the error that stopped it (the deltas stay buffered) or
  // Errc::timeout.
  void flush();
  // The flusher's counters, as LaxCounter::stats() (the same machinery):
  // flushes, retries, set-aside deltas, pending keys and their total.
  LaxCounterStats stats() const;
  ~LaxInstanceAwareCounter() override;

  const std::string& instance_id() const noexcept override;
  InstanceCount inc(const RedisKey& key, std::int64_t count) override;
  InstanceCount dec(const RedisKey& key, std::int64_t count) override;
  InstanceCount get(const RedisKey& key) override;
  InstanceCount set(const RedisKey& key, std::int64_t count) override;
  InstanceCount set_on_instance(const RedisKey& key, std::int64_t count) override;
  InstanceCount del(const RedisKey& key) override;
  InstanceCount del_on_instance(const RedisKey& key) override;
  void clear() override;
  void clear_on_instance() override;
  InstanceUpdateResult inc_if(const RedisKey& key, CounterComparator cmp,
                              std::int64_t count) override;
  InstanceUpdateResult set_if(const RedisKey& key, CounterComparator cmp,
                              std::int64_t count) override;
  InstanceUpdateResult set_on_instance_if(const RedisKey& key, CounterComparator cmp,
                                          std::int64_t count) override;
  std::vector<InstanceCount> get_all(std::span<const RedisKey> keys) override;
  std::vector<InstanceCount> inc_all(std::span<const KeyCount> updates) override;
  std::vector<InstanceCount> set_all(std::span<const KeyCount> updates) override;
  std::vector<InstanceCount> set_all_on_instance(std::span<const KeyCount> updates) override;
  std::vector<InstanceUpdateResult> inc_all_if(std::span<const ConditionalUpdate> updates) override;
  std::vector<InstanceUpdateResult> set_all_if(std::span<const ConditionalUpdate> updates) override;
  std::vector<InstanceUpdateResult> set_all_on_instance_if(
      std::span<const ConditionalUpdate> updates) override;

 protected:
  void initiate_inc(RedisKey key, std::int64_t count, Handler<InstanceCount> handler) override;
  void initiate_dec(RedisKey key, std::int64_t count, Handler<InstanceCount> handler) override;
  void initiate_get(RedisKey key, Handler<InstanceCount> handler) override;
  void initiate_set(RedisKey key, std::int64_t count, Handler<InstanceCount> handler) override;
  void initiate_set_on_instance(RedisKey key, std::int64_t count,
                                Handler<InstanceCount> handler) override;
  void initiate_del(RedisKey key, Handler<InstanceCount> handler) override;
  void initiate_del_on_instance(RedisKey key, Handler<InstanceCount> handler) override;
  void initiate_clear(ClearHandler handler) override;
  void initiate_clear_on_instance(ClearHandler handler) override;
  void initiate_inc_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                       Handler<InstanceUpdateResult> handler) override;
  void initiate_set_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                       Handler<InstanceUpdateResult> handler) override;
  void initiate_set_on_instance_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                                   Handler<InstanceUpdateResult> handler) override;
  void initiate_get_all(std::vector<RedisKey> keys,
                        Handler<std::vector<InstanceCount>> handler) override;
  void initiate_inc_all(std::vector<KeyCount> updates,
                        Handler<std::vector<InstanceCount>> handler) override;
  void initiate_set_all(std::vector<KeyCount> updates,
                        Handler<std::vector<InstanceCount>> handler) override;
  void initiate_set_all_on_instance(std::vector<KeyCount> updates,
                                    Handler<std::vector<InstanceCount>> handler) override;
  void initiate_inc_all_if(std::vector<ConditionalUpdate> updates,
                           Handler<std::vector<InstanceUpdateResult>> handler) override;
  void initiate_set_all_if(std::vector<ConditionalUpdate> updates,
                           Handler<std::vector<InstanceUpdateResult>> handler) override;
  void initiate_set_all_on_instance_if(std::vector<ConditionalUpdate> updates,
                                       Handler<std::vector<InstanceUpdateResult>> handler) override;

 private:
  class Impl;
  LaxInstanceAwareCounter(std::shared_ptr<StrictInstanceAwareCounter> strict,
                          std::shared_ptr<Impl> impl);
  // Runs the immediate calls and the heartbeat; holds the client.
  std::shared_ptr<StrictInstanceAwareCounter> strict_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace distkit
