#include "distkit/comparator.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace distkit {
namespace {

constexpr std::int64_t min = INT64_MIN;
constexpr std::int64_t max = INT64_MAX;

TEST(CounterComparator, EachOperator) {
  EXPECT_TRUE(CounterComparator::eq(5).matches(5));
  EXPECT_FALSE(CounterComparator::eq(5).matches(6));
  EXPECT_TRUE(CounterComparator::ne(5).matches(6));
  EXPECT_FALSE(CounterComparator::ne(5).matches(5));
  EXPECT_TRUE(CounterComparator::lt(5).matches(4));
  EXPECT_FALSE(CounterComparator::lt(5).matches(5));
  EXPECT_TRUE(CounterComparator::gt(5).matches(6));
  EXPECT_FALSE(CounterComparator::gt(5).matches(5));
  EXPECT_TRUE(CounterComparator::le(5).matches(5));
  EXPECT_FALSE(CounterComparator::le(5).matches(6));
  EXPECT_TRUE(CounterComparator::ge(5).matches(5));
  EXPECT_FALSE(CounterComparator::ge(5).matches(4));
  EXPECT_TRUE(CounterComparator::nil().matches(min));
  EXPECT_TRUE(CounterComparator::nil().matches(max));
}

TEST(CounterComparator, ExactAtTheEdgesOfInt64) {
  EXPECT_TRUE(CounterComparator::gt(9007199254740992).matches(9007199254740993));
  EXPECT_FALSE(CounterComparator::eq(9007199254740992).matches(9007199254740993));
  EXPECT_TRUE(CounterComparator::lt(max).matches(max - 1));
  EXPECT_TRUE(CounterComparator::gt(min).matches(min + 1));
  EXPECT_TRUE(CounterComparator::le(min).matches(min));
}

TEST(CounterComparator, IsConstexprWithAccessors) {
  constexpr auto cmp = CounterComparator::ge(3);
  static_assert(cmp.matches(3) && !cmp.matches(2));
  static_assert(cmp.kind() == CounterComparator::Kind::ge && cmp.operand() == 3);
  static_assert(CounterComparator::nil().operand() == 0);
  EXPECT_EQ(cmp, CounterComparator::ge(3));
  EXPECT_NE(cmp, CounterComparator::gt(3));
}

}  // namespace
}  // namespace distkit
