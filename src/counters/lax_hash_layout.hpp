// LaxCounter's Redis layout for flushes: the counter's hash (or one hash per
// shard), one flush record per counter instance and shard, and a list of
// set-aside deltas per shard.
#pragma once

#include <chrono>
#include <string>

#include "counters/lax_flusher.hpp"
#include "counters/shard_layout.hpp"

namespace distkit::detail {

// The auxiliary keys of one shard of `layout` (see ShardLayout::auxiliary):
// `<tag>:flushed:<instance>`, the number of the last flush chunk that
// instance applied to the shard (a string with its own TTL), and
// `<tag>:set_aside`, a list of "<delta> <key>" entries, the deltas Redis
// could never take.
std::string lax_record_key(const ShardLayout& layout, std::size_t shard, std::string_view instance);
std::string lax_set_aside_key(const ShardLayout& layout, std::size_t shard);

// The flush of LaxCounter's hashes by lax_flush.lua, one shard per chunk.
class LaxHashLayout final : public LaxFlushLayout {
 public:
  // How long a record outlives its instance's last flush: far above any
  // retry (which comes within seconds while Redis answers at all), and
  // short enough that gone instances leave no trace for long.
  static constexpr std::chrono::milliseconds record_ttl = std::chrono::hours(1);

  // `name` names the counter in log messages.
  LaxHashLayout(ShardLayout layout, std::string_view instance, std::string name);

  std::size_t shards() const override { return layout_.count(); }
  std::size_t shard_of(const LaxSlot& slot) const override { return layout_.shard_of(*slot.key); }
  Request chunk_request(std::size_t shard, std::uint64_t seq, bool oldest,
                        std::span<const LaxDelta> deltas) const override;
  ChunkReply chunk_reply(std::size_t shard, const Reply& reply, std::size_t size) const override;
  std::string set_aside_location(std::size_t shard) const override { return set_aside_[shard]; }
  const std::string& name() const override { return name_; }

 private:
  ShardLayout layout_;
  std::vector<std::string> records_;    // per shard
  std::vector<std::string> set_aside_;  // per shard
  std::string name_;
};

}  // namespace distkit::detail
