#include "counters/decimal.hpp"

#include <gtest/gtest.h>

namespace distkit::detail {
namespace {

TEST(Decimal, ParsesCanonicalInt64Only) {
  EXPECT_EQ(parse_int64("0"), 0);
  EXPECT_EQ(parse_int64("-1"), -1);
  EXPECT_EQ(parse_int64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_int64("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(parse_int64("9007199254740993"), 9007199254740993);
  for (const char* bad : {"", "-", "-0", "+1", "01", " 1", "1 ", "1.0", "1e3", "abc",
                          "9223372036854775808", "-9223372036854775809"}) {
    EXPECT_FALSE(parse_int64(bad)) << bad;
  }
}

TEST(Decimal, FormatsInt128Exactly) {
  EXPECT_EQ(to_decimal(0), "0");
  EXPECT_EQ(to_decimal(-5), "-5");
  EXPECT_EQ(to_decimal(int128{INT64_MAX} + 1), "9223372036854775808");
  EXPECT_EQ(to_decimal(int128{INT64_MIN} - INT64_MAX), "-18446744073709551615");
  const int128 min128 = -(int128{1} << 126) * 2;
  EXPECT_EQ(to_decimal(min128), "-170141183460469231731687303715884105728");
}

TEST(Decimal, PrintableEscapesUnprintableBytes) {
  EXPECT_EQ(printable("ok key"), "ok key");
  EXPECT_EQ(printable(std::string("a\0\n'", 4)), "a\\x00\\x0a\\x27");
}

}  // namespace
}  // namespace distkit::detail
