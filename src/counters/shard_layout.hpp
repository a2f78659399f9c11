// The Redis hashes one counter's keys are spread over, and the function that
// picks a key's hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "distkit/redis_key.hpp"

namespace distkit::detail {

// The most shards a counter may have: one per Redis Cluster hash slot would
// be 16,384; far fewer already put a shard on every master of any cluster.
inline constexpr int max_counter_shards = 1024;

// Which of `shards` hashes `key` belongs to: the FNV-1a 64-bit hash of the
// key's bytes, modulo `shards`. Part of the Redis layout: the same in every
// process and version, so never change it. Requires shards >= 1.
std::size_t shard_of_key(std::string_view key, int shards) noexcept;

// The names of one counter's hashes (`kind` is e.g. "strict_counter") and of
// the auxiliary keys that must share each hash's Redis Cluster slot.
//
//   shards == 1: hash `<prefix>:<kind>`, auxiliary `{<prefix>:<kind>}:<suffix>`
//                (the layout shared with the Rust distkit);
//   shards == N: hash `{<prefix>:<kind>:<i>}`, auxiliary
//                `{<prefix>:<kind>:<i>}:<suffix>`, for i in 0..N-1.
//
// Immutable; safe to share between threads.
class ShardLayout {
 public:
  // Requires 1 <= shards <= max_counter_shards (check_counter_options
  // enforces it).
  ShardLayout(const RedisKey& prefix, std::string_view kind, int shards);

  std::size_t count() const noexcept { return hashes_.size(); }
  std::size_t shard_of(const RedisKey& key) const noexcept { return shard_of(key.str()); }
  std::size_t shard_of(std::string_view key) const noexcept {
    return hashes_.size() == 1 ? 0 : shard_of_key(key, static_cast<int>(hashes_.size()));
  }
  const std::string& hash(std::size_t shard) const { return hashes_[shard]; }
  // The auxiliary key `suffix` of `shard`, in the shard's hash slot.
  std::string auxiliary(std::size_t shard, std::string_view suffix) const;

 private:
  std::vector<std::string> hashes_;
  std::vector<std::string> tags_;  // the `{...}` part every auxiliary key starts with
};

}  // namespace distkit::detail
