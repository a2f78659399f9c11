#include "client/url.hpp"

#include <gtest/gtest.h>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

TEST(Url, HostOnlyUsesDefaults) {
  const Endpoint endpoint = parse_redis_url("redis://cache.internal");
  EXPECT_EQ(endpoint.host, "cache.internal");
  EXPECT_EQ(endpoint.port, 6379);
  EXPECT_FALSE(endpoint.user);
  EXPECT_FALSE(endpoint.password);
  EXPECT_EQ(endpoint.db, 0);
}

TEST(Url, PortAndDb) {
  const Endpoint endpoint = parse_redis_url("redis://127.0.0.1:6380/3");
  EXPECT_EQ(endpoint.host, "127.0.0.1");
  EXPECT_EQ(endpoint.port, 6380);
  EXPECT_EQ(endpoint.db, 3);
}

TEST(Url, PasswordOnly) {
  const Endpoint endpoint = parse_redis_url("redis://:s3cret@host");
  EXPECT_FALSE(endpoint.user);
  EXPECT_EQ(endpoint.password, "s3cret");
}

TEST(Url, UserAndEscapedPassword) {
  const Endpoint endpoint = parse_redis_url("redis://alice:p%40ss%3Aword@host:1/0");
  EXPECT_EQ(endpoint.user, "alice");
  EXPECT_EQ(endpoint.password, "p@ss:word");
  EXPECT_EQ(endpoint.port, 1);
}

TEST(Url, Ipv6Literal) {
  const Endpoint endpoint = parse_redis_url("redis://[::1]:7000");
  EXPECT_EQ(endpoint.host, "::1");
  EXPECT_EQ(endpoint.port, 7000);
}

TEST(Url, TrailingSlashMeansDbZero) {
  EXPECT_EQ(parse_redis_url("redis://h/").db, 0);
}

class MalformedUrl : public testing::TestWithParam<const char*> {};

TEST_P(MalformedUrl, IsInvalidArgument) {
  try {
    parse_redis_url(GetParam());
    FAIL() << "accepted " << GetParam();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument) << GetParam();
    EXPECT_NE(std::string(e.what()).find("malformed Redis URL"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Url, MalformedUrl,
                         testing::Values("", "localhost:6379", "http://host", "redis://",
                                         "redis://host:0", "redis://host:65536", "redis://host:abc",
                                         "redis://host/abc", "redis://host/-1", "redis://host/1/2",
                                         "redis://host?x=1", "redis://host#frag",
                                         "redis://user@host", "redis ://host", "redis://ho st"));

}  // namespace
}  // namespace distkit::detail
