#include "counters/shard_split.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace distkit::detail {
namespace {

TEST(ShardSplit, OneShardIsOnePartInInputOrder) {
  const ShardLayout layout(RedisKey("p"), "strict_counter", 1);
  const std::vector<std::string> keys{"b", "a", "b"};
  const auto parts = split_by_shard(layout, keys.size(), [&](std::size_t i) { return keys[i]; });
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].shard, 0u);
  EXPECT_EQ(parts[0].positions, (std::vector<std::size_t>{0, 1, 2}));
}

TEST(ShardSplit, PartsFollowTheShardFunctionAndKeepInputOrder) {
  const ShardLayout layout(RedisKey("p"), "strict_counter", 3);
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) keys.push_back("k" + std::to_string(i % 10));  // repeats
  const auto parts = split_by_shard(layout, keys.size(), [&](std::size_t i) { return keys[i]; });
  std::size_t covered = 0;
  std::size_t previous_shard = 0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    if (p > 0) {
      EXPECT_GT(parts[p].shard, previous_shard) << "parts in shard order";
    }
    previous_shard = parts[p].shard;
    ASSERT_FALSE(parts[p].positions.empty());
    for (std::size_t i = 0; i < parts[p].positions.size(); ++i) {
      const std::size_t position = parts[p].positions[i];
      EXPECT_EQ(shard_of_key(keys[position], 3), parts[p].shard);
      if (i > 0) {
        EXPECT_GT(position, parts[p].positions[i - 1]) << "input order";
      }
    }
    covered += parts[p].positions.size();
  }
  EXPECT_EQ(covered, keys.size());
}

TEST(ShardSplit, TakePartMovesTheChosenItems) {
  std::vector<std::string> items{"a", "b", "c", "d"};
  EXPECT_EQ(take_part(items, {1, 3}), (std::vector<std::string>{"b", "d"}));
  std::vector<std::string> whole{"x", "y"};
  EXPECT_EQ(take_part(whole, {0, 1}), (std::vector<std::string>{"x", "y"}));
}

TEST(ShardGather, ValuesReturnToInputOrderWhateverOrderPartsReport) {
  const std::vector<ShardPart> parts{{0, {1, 3}}, {2, {0, 2, 4}}};
  Outcome<std::vector<int>> result;
  int calls = 0;
  auto callbacks = gather<int>(parts, 5, [&](Outcome<std::vector<int>> outcome) {
    result = std::move(outcome);
    ++calls;
  });
  ASSERT_EQ(callbacks.size(), 2u);
  callbacks[1]({{}, {}, {10, 12, 14}});
  EXPECT_EQ(calls, 0);
  callbacks[0]({{}, {}, {11, 13}});
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.value, (std::vector<int>{10, 11, 12, 13, 14}));
}

TEST(ShardGather, TheFirstFailingPartInShardOrderIsReportedAfterAllParts) {
  const std::vector<ShardPart> parts{{0, {0}}, {1, {1}}, {2, {2}}};
  Outcome<std::vector<int>> result;
  int calls = 0;
  auto callbacks = gather<int>(parts, 3, [&](Outcome<std::vector<int>> outcome) {
    result = std::move(outcome);
    ++calls;
  });
  callbacks[2]({make_error_code(Errc::redis), "late shard", {}});
  callbacks[1]({make_error_code(Errc::overflow), "middle shard", {}});
  EXPECT_EQ(calls, 0) << "waits for every part";
  callbacks[0]({{}, {}, {1}});
  ASSERT_EQ(calls, 1);
  EXPECT_EQ(result.error, Errc::overflow);
  EXPECT_EQ(result.message, "middle shard");
  EXPECT_TRUE(result.value.empty());
}

TEST(ShardGather, OnePartReportsStraightThrough) {
  const std::vector<ShardPart> parts{{5, {0, 1}}};
  std::vector<int> seen;
  auto callbacks =
      gather<int>(parts, 2, [&](Outcome<std::vector<int>> outcome) { seen = outcome.value; });
  ASSERT_EQ(callbacks.size(), 1u);
  callbacks[0]({{}, {}, {7, 8}});
  EXPECT_EQ(seen, (std::vector<int>{7, 8}));
}

}  // namespace
}  // namespace distkit::detail
