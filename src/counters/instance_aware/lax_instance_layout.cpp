#include "counters/instance_aware/lax_instance_layout.hpp"

#include "counters/scripts.hpp"

namespace distkit::detail::instance_aware {

LaxInstanceLayout::LaxInstanceLayout(Layout layout, std::string instance_id)
    : layout_(std::move(layout)),
      instance_id_(std::move(instance_id)),
      record_(layout_.flushed(instance_id_)),
      set_aside_(layout_.set_aside()) {}

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

Request LaxInstanceLayout::forget_request() const {
  RequestBuilder builder("DEL");
  builder.key(record_).key(set_aside_);
  return builder.build();
}

LaxFlushLayout::ChunkReply LaxInstanceLayout::chunk_reply(std::size_t /*shard*/, const Reply& reply,
                                                          std::size_t size) const {
  return decode_chunk_reply(reply, size, layout_.cumulative);
}

}  // namespace distkit::detail::instance_aware
