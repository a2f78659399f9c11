// LaxInstanceAwareCounter's Redis layout for flushes: each delta goes to
// this instance's slice and the cumulative of the instance-aware layout.
#pragma once

#include <chrono>
#include <string>

#include "counters/instance_aware/instance_protocol.hpp"
#include "counters/lax_flusher.hpp"

namespace distkit::detail::instance_aware {

// `C:flushed:<id>`: the number of the last flush chunk the instance applied
// (a string with its own TTL). C = `<prefix>:instance_aware_counter`, so it
// shares the layout's cluster slot.
std::string lax_record_key(const RedisKey& prefix, std::string_view instance_id);
// `C:set_aside`: a list of "<delta> <key>" entries Redis could never take.
std::string lax_set_aside_key(const RedisKey& prefix);

// The flush of one instance's pending deltas by instance_lax_flush.lua.
class LaxInstanceLayout final : public LaxFlushLayout {
 public:
  // As LaxCounter's records: far above any retry, short enough that gone
  // instances leave no trace for long.
  static constexpr std::chrono::milliseconds record_ttl = std::chrono::hours(1);

  LaxInstanceLayout(const RedisKey& prefix, std::string instance_id);

  Request chunk_request(std::size_t shard, std::uint64_t seq, bool oldest,
                        std::span<const LaxDelta> deltas) const override;
  ChunkReply chunk_reply(std::size_t shard, const Reply& reply, std::size_t size) const override;
  std::string set_aside_location(std::size_t /*shard*/) const override { return set_aside_; }
  const std::string& name() const override { return layout_.cumulative; }

 private:
  Layout layout_;
  std::string instance_id_;
  std::string record_;
  std::string set_aside_;
};

}  // namespace distkit::detail::instance_aware
