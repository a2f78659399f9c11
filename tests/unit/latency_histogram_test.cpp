#include "latency_histogram.hpp"

#include <gtest/gtest.h>

namespace distkit::tools {
namespace {

using std::chrono::nanoseconds;

TEST(LatencyHistogram, PercentilesWithinOneEighth) {
  LatencyHistogram histogram;
  for (int i = 1; i <= 1000; ++i) histogram.record(nanoseconds(i * 1000));
  EXPECT_EQ(histogram.count(), 1000u);
  const auto p50 = histogram.percentile(0.50).count();
  const auto p99 = histogram.percentile(0.99).count();
  EXPECT_GE(p50, 500000);
  EXPECT_LE(p50, 500000 * 9 / 8);
  EXPECT_GE(p99, 990000);
  EXPECT_LE(p99, 990000 * 9 / 8);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (int i = 0; i < 8; ++i) histogram.record(nanoseconds(i));
  EXPECT_EQ(histogram.percentile(0).count(), 0);
  EXPECT_EQ(histogram.percentile(1).count(), 7);
  EXPECT_EQ(LatencyHistogram().percentile(0.5).count(), 0);
}

TEST(LatencyHistogram, MergesThroughItsTextForm) {
  LatencyHistogram a, b;
  for (int i = 0; i < 100; ++i) a.record(nanoseconds(100));
  for (int i = 0; i < 100; ++i) b.record(nanoseconds(1000000));
  LatencyHistogram merged;
  merged.merge_serialized(a.serialize());
  merged.merge_serialized(b.serialize() + " junk 9999:1");
  EXPECT_EQ(merged.count(), 200u);
  EXPECT_LE(merged.percentile(0.25).count(), 112);
  EXPECT_GE(merged.percentile(0.75).count(), 1000000);
  a.merge(b);
  EXPECT_EQ(a.percentile(0.75), merged.percentile(0.75));
}

}  // namespace
}  // namespace distkit::tools
