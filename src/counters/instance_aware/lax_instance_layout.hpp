// LaxInstanceAwareCounter's Redis layout for flushes: each delta goes to
// this instance's slice and the cumulative of the lax instance-aware layout
// (C = `<prefix>:lax_instance_aware_counter`). The flush record
// `C:flushed:<id>` (the number of the last chunk the instance applied, a
// string with its own TTL) and the set-aside list `C:set_aside` ("<delta>
// <key>" entries Redis could never take) start with C too, so the prefix's
// hash tag puts them in the layout's cluster slot.
#pragma once

#include <chrono>
#include <string>

#include "counters/instance_aware/instance_protocol.hpp"
#include "counters/lax_flusher.hpp"

namespace distkit::detail::instance_aware {

// The flush of one instance's pending deltas by instance_lax_flush.lua.
class LaxInstanceLayout final : public LaxFlushLayout {
 public:
  // As LaxCounter's records: far above any retry, short enough that gone
  // instances leave no trace for long.
  static constexpr std::chrono::milliseconds record_ttl = std::chrono::hours(1);

  LaxInstanceLayout(Layout layout, std::string instance_id);

  Request chunk_request(std::size_t shard, std::uint64_t seq, bool oldest,
                        std::span<const LaxDelta> deltas) const override;
  ChunkReply chunk_reply(std::size_t shard, const Reply& reply, std::size_t size) const override;
  std::string set_aside_location(std::size_t /*shard*/) const override { return set_aside_; }
  const std::string& name() const override { return layout_.cumulative; }

  // Deletes this instance's flush record and the set-aside list: after a
  // clear, the next chunk applies as the oldest and nothing set aside
  // before the clear survives it.
  Request forget_request() const;

 private:
  Layout layout_;
  std::string instance_id_;
  std::string record_;
  std::string set_aside_;
};

}  // namespace distkit::detail::instance_aware
