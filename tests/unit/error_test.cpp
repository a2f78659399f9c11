#include "distkit/error.hpp"

#include <gtest/gtest.h>

namespace distkit {
namespace {

TEST(Error, CodesCompareWithErrc) {
  const boost::system::error_code code = Errc::overflow;
  EXPECT_EQ(code, Errc::overflow);
  EXPECT_NE(code, Errc::timeout);
  EXPECT_EQ(&code.category(), &error_category());
  EXPECT_STREQ(error_category().name(), "distkit");
  EXPECT_EQ(make_error_code(Errc::invalid_key).value(), 1);
}

TEST(Error, EveryErrcHasAMessage) {
  for (int value = 1; value <= static_cast<int>(Errc::closed); ++value) {
    EXPECT_NE(error_category().message(value), "unknown distkit error") << value;
  }
}

TEST(Error, IsASystemErrorCarryingDetail) {
  try {
    throw Error(Errc::timeout, "GET k");
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), Errc::timeout);
    EXPECT_NE(std::string(e.what()).find("GET k"), std::string::npos);
  }
}

}  // namespace
}  // namespace distkit
