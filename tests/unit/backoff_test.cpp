#include "client/backoff.hpp"

#include <gtest/gtest.h>

namespace distkit::detail {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyWithinJitterBoundsAndCaps) {
  Backoff backoff(milliseconds(10), milliseconds(100), 42);
  const long long ceilings[] = {10, 20, 40, 80, 100, 100, 100};
  for (long long ceiling : ceilings) {
    const auto delay = backoff.next().count();
    EXPECT_GE(delay, ceiling / 2);
    EXPECT_LE(delay, ceiling);
  }
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff(milliseconds(10), milliseconds(1000), 7);
  for (int i = 0; i < 10; ++i) backoff.next();
  backoff.reset();
  EXPECT_LE(backoff.next().count(), 10);
}

TEST(Backoff, SeedsSpreadDelays) {
  Backoff a(milliseconds(1000), milliseconds(1000), 1);
  Backoff b(milliseconds(1000), milliseconds(1000), 2);
  bool differ = false;
  for (int i = 0; i < 5; ++i) differ |= a.next() != b.next();
  EXPECT_TRUE(differ);
}

}  // namespace
}  // namespace distkit::detail
