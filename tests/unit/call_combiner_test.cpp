#include "counters/instance_aware/call_combiner.hpp"

#include <gtest/gtest.h>

namespace distkit::detail::instance_aware {
namespace {

using Group = std::vector<int>;

TEST(CallCombiner, SendsAtOnceWhileGroupsAreFree) {
  CallCombiner<int> combiner(2, 10);
  EXPECT_EQ(combiner.submit(1, 1), Group{1});
  EXPECT_EQ(combiner.submit(2, 1), Group{2});
  EXPECT_EQ(combiner.submit(3, 1), Group{});
  EXPECT_EQ(combiner.submit(4, 1), Group{});
  EXPECT_EQ(combiner.finished(), (Group{3, 4})) << "waiting calls leave together, in order";
  EXPECT_EQ(combiner.finished(), Group{});
  EXPECT_EQ(combiner.finished(), Group{});
  EXPECT_EQ(combiner.submit(5, 1), Group{5}) << "every group finished: free again";
}

TEST(CallCombiner, BoundsAGroupByEntries) {
  CallCombiner<int> combiner(1, 4);
  EXPECT_EQ(combiner.submit(1, 1), Group{1});
  combiner.submit(2, 3);
  combiner.submit(3, 2);
  combiner.submit(4, 9);
  EXPECT_EQ(combiner.finished(), Group{2});
  EXPECT_EQ(combiner.finished(), Group{3});
  EXPECT_EQ(combiner.finished(), Group{4}) << "a call larger than the bound goes alone";
  EXPECT_EQ(combiner.finished(), Group{});
  EXPECT_EQ(combiner.submit(5, 1), Group{5});
}

}  // namespace
}  // namespace distkit::detail::instance_aware
