#include "counters/lax_hash_layout.hpp"

#include "counters/replies.hpp"
#include "counters/scripts.hpp"

namespace distkit::detail {

std::string lax_record_key(const ShardLayout& layout, std::size_t shard,
                           std::string_view instance) {
  return layout.auxiliary(shard, "flushed:" + std::string(instance));
}

std::string lax_set_aside_key(const ShardLayout& layout, std::size_t shard) {
  return layout.auxiliary(shard, "set_aside");
}

LaxHashLayout::LaxHashLayout(ShardLayout layout, std::string_view instance, std::string name)
    : layout_(std::move(layout)), name_(std::move(name)) {
  for (std::size_t shard = 0; shard < layout_.count(); ++shard) {
    records_.push_back(lax_record_key(layout_, shard, instance));
    set_aside_.push_back(lax_set_aside_key(layout_, shard));
  }
}

Request LaxHashLayout::chunk_request(std::size_t shard, std::uint64_t seq, bool oldest,
                                     std::span<const LaxDelta> deltas) const {
  RequestBuilder builder(lax_flush_script(), 3);
  builder.arg(layout_.hash(shard)).arg(records_[shard]).arg(set_aside_[shard]);
  builder.arg(static_cast<std::int64_t>(seq)).arg(oldest ? "oldest" : "next");
  builder.arg(static_cast<std::int64_t>(record_ttl.count()));
  for (const LaxDelta& delta : deltas) builder.arg(*delta.slot->key).arg(delta.delta);
  return builder.build();
}

LaxFlushLayout::ChunkReply decode_chunk_reply(const Reply& reply, std::size_t size,
                                              const std::string& name) {
  throw_if_error(reply, name, {});
  if (reply.kind != Reply::Kind::array || reply.elements.empty()) {
    unexpected_reply("a flush outcome");
  }
  const std::string& outcome = reply.elements.front().text;
  LaxFlushLayout::ChunkReply decoded;
  if (outcome == "duplicate") {
    decoded.outcome = LaxFlushLayout::Outcome::duplicate;
  } else if (outcome == "gap") {
    decoded.outcome = LaxFlushLayout::Outcome::gap;
  } else if (outcome != "applied") {
    unexpected_reply("a flush outcome");
  }
  for (std::size_t i = 1; i < reply.elements.size(); ++i) {
    const Reply& index = reply.elements[i];
    if (index.kind != Reply::Kind::integer || index.integer < 1 ||
        static_cast<std::size_t>(index.integer) > size) {
      unexpected_reply("the index of a set-aside delta");
    }
    decoded.set_aside.push_back(static_cast<std::size_t>(index.integer - 1));
  }
  return decoded;
}

LaxFlushLayout::ChunkReply LaxHashLayout::chunk_reply(std::size_t shard, const Reply& reply,
                                                      std::size_t size) const {
  return decode_chunk_reply(reply, size, layout_.hash(shard));
}

}  // namespace distkit::detail
