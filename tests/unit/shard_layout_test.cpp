#include "counters/shard_layout.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace distkit::detail {
namespace {

TEST(ShardLayout, OneShardIsTheRustLayout) {
  const ShardLayout layout(RedisKey("app"), "strict_counter", 1);
  ASSERT_EQ(layout.count(), 1u);
  EXPECT_EQ(layout.hash(0), "app:strict_counter");
  EXPECT_EQ(layout.auxiliary(0, "flushed:x"), "{app:strict_counter}:flushed:x");
  EXPECT_EQ(layout.shard_of(RedisKey("anything")), 0u);
}

TEST(ShardLayout, ShardedHashesCarryTheirOwnHashTag) {
  const ShardLayout layout(RedisKey("app"), "lax_counter", 3);
  ASSERT_EQ(layout.count(), 3u);
  EXPECT_EQ(layout.hash(0), "{app:lax_counter:0}");
  EXPECT_EQ(layout.hash(2), "{app:lax_counter:2}");
  EXPECT_EQ(layout.auxiliary(1, "set_aside"), "{app:lax_counter:1}:set_aside");
}

// The function is part of the Redis layout: these values are FNV-1a 64 of
// the bytes (published test vectors), so a change to it fails here.
TEST(ShardLayout, ShardFunctionIsFnv1aOfTheKeyBytes) {
  constexpr std::uint64_t fnv_of_a = 0xaf63dc4c8601ec8cULL;       // "a"
  constexpr std::uint64_t fnv_of_foobar = 0x85944171f73967e8ULL;  // "foobar"
  for (int shards : {1, 2, 3, 7, 16, 1024}) {
    EXPECT_EQ(shard_of_key("a", shards), fnv_of_a % static_cast<std::uint64_t>(shards));
    EXPECT_EQ(shard_of_key("foobar", shards), fnv_of_foobar % static_cast<std::uint64_t>(shards));
  }
  EXPECT_EQ(shard_of_key(std::string("\0x", 2), 1024), shard_of_key(std::string("\0x", 2), 1024));
}

TEST(ShardLayout, KeysSpreadOverEveryShard) {
  const ShardLayout layout(RedisKey("app"), "strict_counter", 8);
  std::set<std::size_t> used;
  for (int i = 0; i < 200; ++i) used.insert(layout.shard_of(RedisKey("k" + std::to_string(i))));
  EXPECT_EQ(used.size(), 8u);
}

}  // namespace
}  // namespace distkit::detail
