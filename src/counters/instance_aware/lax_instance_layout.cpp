#include "counters/instance_aware/lax_instance_layout.hpp"

#include "counters/scripts.hpp"

namespace distkit::detail::instance_aware {

std::string lax_record_key(const RedisKey& prefix, std::string_view instance_id) {
  return prefix.str() + ":instance_aware_counter:flushed:" + std::string(instance_id);
}

std::string lax_set_aside_key(const RedisKey& prefix) {
  return prefix.str() + ":instance_aware_counter:set_aside";
}

LaxInstanceLayout::LaxInstanceLayout(const RedisKey& prefix, std::string instance_id)
    : layout_(prefix),
      instance_id_(std::move(instance_id)),
      record_(lax_record_key(prefix, instance_id_)),
      set_aside_(lax_set_aside_key(prefix)) {}

Request LaxInstanceLayout::chunk_request(std::size_t /*shard*/, std::uint64_t seq, bool oldest,
                                         std::span<const LaxDelta> deltas) const {
  RequestBuilder builder(instance_lax_flush_script(), common_keys + 2);
  add_common_keys(builder, layout_, instance_id_);
  builder.arg(record_).arg(set_aside_);
  builder.arg(instance_id_)
      .arg(static_cast<std::int64_t>(seq))
      .arg(oldest ? "oldest" : "next")
      .arg(static_cast<std::int64_t>(record_ttl.count()));
  for (const LaxDelta& delta : deltas) builder.arg(*delta.slot->key).arg(delta.delta);
  return builder.build();
}

LaxFlushLayout::ChunkReply LaxInstanceLayout::chunk_reply(std::size_t /*shard*/, const Reply& reply,
                                                          std::size_t size) const {
  return decode_chunk_reply(reply, size, layout_.cumulative);
}

}  // namespace distkit::detail::instance_aware
