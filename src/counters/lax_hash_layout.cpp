#include "counters/lax_hash_layout.hpp"

#include "counters/replies.hpp"
#include "counters/scripts.hpp"

namespace distkit::detail {

std::string lax_instance_record_key(const RedisKey& prefix, std::string_view instance) {
  return "{" + prefix.str() + ":lax_counter}:flushed:" + std::string(instance);
}

std::string lax_set_aside_key(const RedisKey& prefix) {
  return "{" + prefix.str() + ":lax_counter}:set_aside";
}

Request LaxHashLayout::chunk_request(std::uint64_t seq, bool oldest,
                                     std::span<const LaxDelta> deltas) const {
  RequestBuilder builder(lax_flush_script(), 3);
  builder.arg(hash_).arg(record_).arg(set_aside_);
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

LaxFlushLayout::ChunkReply LaxHashLayout::chunk_reply(const Reply& reply, std::size_t size) const {
  return decode_chunk_reply(reply, size, hash_);
}

}  // namespace distkit::detail
