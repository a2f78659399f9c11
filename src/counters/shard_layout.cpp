#include "counters/shard_layout.hpp"

namespace distkit::detail {

std::size_t shard_of_key(std::string_view key, int shards) noexcept {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char byte : key) {
    hash ^= byte;
    hash *= 1099511628211ULL;
  }
  return static_cast<std::size_t>(hash % static_cast<std::uint64_t>(shards));
}

ShardLayout::ShardLayout(const RedisKey& prefix, std::string_view kind, int shards) {
  const std::string base = prefix.str() + ":" + std::string(kind);
  if (shards == 1) {
    hashes_.push_back(base);
    tags_.push_back("{" + base + "}");
    return;
  }
  for (int i = 0; i < shards; ++i) {
    std::string tagged = "{" + base + ":" + std::to_string(i) + "}";
    hashes_.push_back(tagged);
    tags_.push_back(std::move(tagged));
  }
}

std::string ShardLayout::auxiliary(std::size_t shard, std::string_view suffix) const {
  return tags_[shard] + ":" + std::string(suffix);
}

}  // namespace distkit::detail
