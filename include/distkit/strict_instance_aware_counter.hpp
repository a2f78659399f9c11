// StrictInstanceAwareCounter: every call is one atomic step in Redis.
#pragma once

#include <memory>
#include <string>

#include "distkit/instance_aware_counter.hpp"

namespace distkit {
namespace detail::instance_aware {
struct StrictAccess;
}

// An InstanceAwareCounter whose every call, batches included, is one Lua
// script invocation: atomic as a whole and immediately visible everywhere.
//
// Layout (C = `<prefix>:instance_aware_counter`, shared with the Rust
// distkit's strict counter so that C++ and Rust processes count together;
// a LaxInstanceAwareCounter keeps the same keys under a C of its own):
//   C:epoch        hash   key -> number of global writes (set/del) of the key
//   C:instances    zset   instance id -> last heartbeat, ms (Redis TIME)
//   C:cumulative   hash   key -> cumulative
//   C:keys         set    every key that has a cumulative
//   C:count:<id>   hash   key -> that instance's slice
// plus one key of distkit C++'s own, which Rust processes neither read nor
// write:
//   C:slice_epoch:<id>  hash  key -> the key's epoch when that instance's
//                             slice was written ('' marks the hash); expires
//                             unless the instance's heartbeat renews it
// A global set/del (of any process, C++ or Rust) bumps the key's epoch; a
// slice written under an older epoch is stale: it does not count, it is
// reset at the instance's next touch of the key, and it is not subtracted
// when its instance dies.
// On Redis Cluster all of them must hash to one slot: use a prefix with a
// hash tag (e.g. `{app}`).
//
// Exact over all of int64: values never pass through a Lua number, and a
// result outside int64 is Errc::overflow with nothing changed. Every key a
// script touches is declared to Redis; a global write names the count
// hashes of all instances (learnt from Redis and re-checked by the script).
// Removing a dead instance takes at most 1,000 of its slices per call;
// larger ones finish over the next calls and heartbeats. An instance that
// resumes while its removal is under way removes its remaining slices
// itself, 1,000 per script call, before it registers again: like any
// instance declared dead, it comes back with empty slices.
//
// Thread-safe. The heartbeat runs on the client's executor until the
// counter is destroyed.
class StrictInstanceAwareCounter final : public InstanceAwareCounter {
 public:
  // Throws Error{Errc::invalid_argument} when options.client is null or
  // options.dead_instance_threshold is not positive. Sends nothing; the first
  // heartbeat starts at once in the background.
  static std::shared_ptr<StrictInstanceAwareCounter> create(InstanceAwareCounterOptions options);

  ~StrictInstanceAwareCounter() override;

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
  friend struct detail::instance_aware::StrictAccess;
  StrictInstanceAwareCounter(std::shared_ptr<Client> client, std::shared_ptr<Impl> impl);
  std::shared_ptr<Client> client_;  // keeps the connection's I/O thread alive
  std::shared_ptr<Impl> impl_;
};

}  // namespace distkit
