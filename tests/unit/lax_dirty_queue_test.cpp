#include "counters/lax_dirty_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace distkit::detail {
namespace {

TEST(LaxDirtyQueue, PopsInPushOrderAndCountsPushes) {
  LaxDirtyQueue queue;
  std::vector<LaxDirtyNode> nodes(5);
  EXPECT_EQ(queue.pop(), nullptr);
  for (auto& node : nodes) queue.push(&node);
  EXPECT_EQ(queue.pushed(), 5u);
  for (auto& node : nodes) EXPECT_EQ(queue.pop(), &node);
  EXPECT_EQ(queue.pop(), nullptr);
  queue.push(&nodes[2]);  // a node may come back once popped
  EXPECT_EQ(queue.pushed_fenced(), 6u);
  EXPECT_EQ(queue.pop(), &nodes[2]);
  EXPECT_EQ(queue.pop(), nullptr);
}

// Producers push concurrently with the consumer: every node comes out
// exactly once, and each producer's nodes in its order.
TEST(LaxDirtyQueue, ConcurrentProducersLoseAndDuplicateNothing) {
  constexpr int producers = 4, per_producer = 20000;
  LaxDirtyQueue queue;
  std::vector<std::unique_ptr<LaxDirtyNode[]>> nodes;
  for (int p = 0; p < producers; ++p)
    nodes.push_back(std::make_unique<LaxDirtyNode[]>(per_producer));
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) queue.push(&nodes[p][i]);
    });
  }
  std::vector<int> next(producers, 0);
  int popped = 0;
  while (popped < producers * per_producer) {
    LaxDirtyNode* node = queue.pop();
    if (node == nullptr) continue;  // empty, or a producer is mid-push
    int owner = -1;
    for (int p = 0; p < producers; ++p) {
      if (node >= nodes[p].get() && node < nodes[p].get() + per_producer) owner = p;
    }
    ASSERT_GE(owner, 0);
    ASSERT_EQ(node, &nodes[owner][next[owner]]) << "out of order for producer " << owner;
    ++next[owner];
    ++popped;
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(queue.pop(), nullptr);
  EXPECT_EQ(queue.pushed(), std::uint64_t{producers} * per_producer);
}

}  // namespace
}  // namespace distkit::detail
