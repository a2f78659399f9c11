#include "distkit/redis_key.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

#include "distkit/error.hpp"

namespace distkit {
namespace {

void expect_invalid(const std::string& value) {
  try {
    RedisKey key(value);
    FAIL() << "accepted a key of " << value.size() << " bytes";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_key);
  }
}

TEST(RedisKey, RejectsEmptyTooLongAndColon) {
  expect_invalid("");
  expect_invalid(std::string(256, 'k'));
  expect_invalid("a:b");
  expect_invalid(":");
}

TEST(RedisKey, AcceptsAnyOtherByteUnchanged) {
  EXPECT_EQ(RedisKey(std::string(255, 'k')).str().size(), 255u);
  for (const std::string& value :
       {std::string("with space"), std::string("h\xc3\xa9llo \xe2\x82\xac"), std::string("{tag}"),
        std::string("nul\0byte", 8), std::string("\xff\x01\x7f", 3)}) {
    EXPECT_EQ(RedisKey(value).str(), value);
  }
}

TEST(RedisKey, SanitizeRemovesColonsThenValidates) {
  EXPECT_EQ(RedisKey::sanitize("a:b::c").str(), "abc");
  EXPECT_THROW(RedisKey::sanitize(":::"), Error);
  EXPECT_THROW(RedisKey::sanitize(std::string(256, 'x') + ":"), Error);
  EXPECT_EQ(RedisKey::sanitize(std::string(255, 'x') + ":").str().size(), 255u);
}

TEST(RedisKey, ComparesAndHashesByValue) {
  EXPECT_EQ(RedisKey("a"), RedisKey("a"));
  EXPECT_LT(RedisKey("a"), RedisKey("b"));
  std::unordered_set<RedisKey> keys{RedisKey("x"), RedisKey("x"), RedisKey("y")};
  EXPECT_EQ(keys.size(), 2u);
}

}  // namespace
}  // namespace distkit
