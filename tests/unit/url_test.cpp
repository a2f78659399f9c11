#include "client/url.hpp"

#include <gtest/gtest.h>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

TEST(Url, HostOnlyUsesDefaults) {
  const RedisUrl url = parse_redis_url("redis://cache.internal");
  EXPECT_EQ(url.scheme, UrlScheme::redis);
  ASSERT_EQ(url.hosts.size(), 1u);
  EXPECT_EQ(url.hosts[0], (HostPort{"cache.internal", 6379}));
  EXPECT_EQ(url.credentials, Credentials{});
  EXPECT_EQ(url.db, 0);
  EXPECT_FALSE(url.uses_tls());
  EXPECT_FALSE(url.uses_sentinel());
}

TEST(Url, PortAndDb) {
  const RedisUrl url = parse_redis_url("redis://127.0.0.1:6380/3");
  EXPECT_EQ(url.hosts[0], (HostPort{"127.0.0.1", 6380}));
  EXPECT_EQ(url.db, 3);
}

TEST(Url, PasswordOnly) {
  const RedisUrl url = parse_redis_url("redis://:s3cret@host");
  EXPECT_FALSE(url.credentials.user);
  EXPECT_EQ(url.credentials.password, "s3cret");
}

TEST(Url, UserAndEscapedPassword) {
  const RedisUrl url = parse_redis_url("redis://alice:p%40ss%3Aword@host:1/0");
  EXPECT_EQ(url.credentials.user, "alice");
  EXPECT_EQ(url.credentials.password, "p@ss:word");
  EXPECT_EQ(url.hosts[0].port, 1);
}

TEST(Url, Ipv6Literal) {
  const RedisUrl url = parse_redis_url("redis://[::1]:7000");
  EXPECT_EQ(url.hosts[0], (HostPort{"::1", 7000}));
}

TEST(Url, TrailingSlashMeansDbZero) {
  EXPECT_EQ(parse_redis_url("redis://h/").db, 0);
}

TEST(Url, TlsScheme) {
  const RedisUrl url = parse_redis_url("rediss://:secret@cache.example.com:6380/0");
  EXPECT_EQ(url.scheme, UrlScheme::rediss);
  EXPECT_TRUE(url.uses_tls());
  EXPECT_EQ(url.hosts[0], (HostPort{"cache.example.com", 6380}));
}

TEST(Url, UnixSocketWithQueryOptions) {
  const RedisUrl url =
      parse_redis_url("unix:///run/redis/redis%20x.sock?db=2&user=bob&password=a%26b");
  EXPECT_EQ(url.scheme, UrlScheme::unix_socket);
  EXPECT_EQ(url.socket_path, "/run/redis/redis x.sock");
  EXPECT_TRUE(url.hosts.empty());
  EXPECT_EQ(url.db, 2);
  EXPECT_EQ(url.credentials, (Credentials{"bob", "a&b"}));
  EXPECT_EQ(parse_redis_url("unix:///tmp/r.sock").db, 0);
}

TEST(Url, SentinelList) {
  const RedisUrl url = parse_redis_url(
      "redis-sentinel://:secret@s1:26380,10.0.0.2,[::1]:5/4#my%20master"
      "?sentinel_password=s%40p");
  // (The query after the fragment belongs to the fragment; see below.)
  EXPECT_EQ(url.master_name, "my master?sentinel_password=s@p");
  const RedisUrl proper = parse_redis_url(
      "rediss-sentinel://alice:secret@s1:26380,10.0.0.2,[::1]:5/4?sentinel_user=sen&"
      "sentinel_password=s%40p#mymaster");
  EXPECT_EQ(proper.scheme, UrlScheme::rediss_sentinel);
  EXPECT_TRUE(proper.uses_tls());
  EXPECT_TRUE(proper.uses_sentinel());
  ASSERT_EQ(proper.hosts.size(), 3u);
  EXPECT_EQ(proper.hosts[0], (HostPort{"s1", 26380}));
  EXPECT_EQ(proper.hosts[1], (HostPort{"10.0.0.2", 26379}));
  EXPECT_EQ(proper.hosts[2], (HostPort{"::1", 5}));
  EXPECT_EQ(proper.credentials, (Credentials{"alice", "secret"}));
  EXPECT_EQ(proper.sentinel_credentials, (Credentials{"sen", "s@p"}));
  EXPECT_EQ(proper.db, 4);
  EXPECT_EQ(proper.master_name, "mymaster");
}

TEST(Url, ClusterSeeds) {
  const RedisUrl url = parse_redis_url("redis-cluster://:s%40cret@n1:7000,10.0.0.2,[::1]:7002");
  EXPECT_EQ(url.scheme, UrlScheme::redis_cluster);
  EXPECT_TRUE(url.uses_cluster());
  EXPECT_FALSE(url.uses_tls());
  EXPECT_FALSE(url.uses_sentinel());
  ASSERT_EQ(url.hosts.size(), 3u);
  EXPECT_EQ(url.hosts[0], (HostPort{"n1", 7000}));
  EXPECT_EQ(url.hosts[1], (HostPort{"10.0.0.2", 6379}));
  EXPECT_EQ(url.hosts[2], (HostPort{"::1", 7002}));
  EXPECT_EQ(url.credentials, (Credentials{std::nullopt, "s@cret"}));
  const RedisUrl tls = parse_redis_url("rediss-cluster://alice:pw@n1/0");
  EXPECT_TRUE(tls.uses_tls());
  EXPECT_TRUE(tls.uses_cluster());
  EXPECT_EQ(tls.credentials, (Credentials{"alice", "pw"}));
  EXPECT_EQ(tls.db, 0);
}

struct Malformed {
  const char* url;
  const char* names;  // what the message must say is wrong
};

void PrintTo(const Malformed& malformed, std::ostream* out) {
  *out << '"' << malformed.url << '"';
}

class MalformedUrl : public testing::TestWithParam<Malformed> {};

TEST_P(MalformedUrl, IsInvalidArgumentNamingThePart) {
  try {
    parse_redis_url(GetParam().url);
    FAIL() << "accepted " << GetParam().url;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument) << GetParam().url;
    const std::string what = e.what();
    EXPECT_NE(what.find("malformed Redis URL"), std::string::npos) << what;
    EXPECT_NE(what.find(GetParam().names), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << "leaks the password: " << what;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Url, MalformedUrl,
    testing::Values(
        Malformed{"", "expected <scheme>://"}, Malformed{"localhost:6379", "expected <scheme>://"},
        Malformed{"http://host", "unknown scheme 'http'"},
        Malformed{"redis-cluster://n1:7000/1", "only database 0"},
        Malformed{"redis-cluster://n1,,n2", "seed node address in the host list is empty"},
        Malformed{"rediss-cluster://n1?x=1", "a query"},
        Malformed{"redis-cluster://n1#m", "a fragment"}, Malformed{"redis://", "host is missing"},
        Malformed{"redis://host:0", "port '0'"}, Malformed{"redis://host:65536", "port '65536'"},
        Malformed{"redis://host:", "port ''"}, Malformed{"redis://host:06379", "port '06379'"},
        Malformed{"redis://127.0.0.1:6379:3", "the port '6379:3' is not a number"},
        Malformed{"redis://127.0.0.1:6379x3", "the port '6379x3' is not a number"},
        Malformed{"redis://:hunter2@127.0.0.1:6379:3", "the port '6379:3'"},
        Malformed{"redis://host:abc", "the port 'abc'"},
        Malformed{"redis://host/abc", "database 'abc'"}, Malformed{"redis://host/-1", "database"},
        Malformed{"redis://host/01", "database '01'"}, Malformed{"redis://host/1/2", "database"},
        Malformed{"redis://host/%31", "database '%31'"},
        Malformed{"redis://host/99999999999", "database"}, Malformed{"redis://host?x=1", "query"},
        Malformed{"redis://host#frag", "fragment"},
        Malformed{"redis://user@host", "needs a password"},
        Malformed{"redis ://host", "unknown scheme"}, Malformed{"redis://ho st", "not a valid URI"},
        Malformed{"redis://alice:hunter2@ho st", "not a valid URI"},
        Malformed{"unix://host/path", "unix:///absolute/path"},
        Malformed{"unix:///", "socket path is missing"},
        Malformed{"unix:///s?db=x", "database 'x'"}, Malformed{"unix:///s?db=1&db=2", "twice"},
        Malformed{"unix:///s?pass=hunter2", "unknown query option 'pass'"},
        Malformed{"unix:///s?user=u", "needs password"}, Malformed{"unix:///s?db", "no value"},
        Malformed{"unix:///s?password=hunter2#x", "fragment"},
        Malformed{"redis-sentinel://s1,s2/0", "master name is missing"},
        Malformed{"redis-sentinel://s1,,s2#m", "empty"},
        Malformed{"redis-sentinel://s1:26379:1#m", "sentinel address 's1:26379:1'"},
        Malformed{"redis-sentinel://s1:0#m", "port '0'"},
        Malformed{"redis-sentinel://:hunter2@s1?x=1#m", "unknown query option 'x'"},
        Malformed{"redis-sentinel://s1?sentinel_user=u#m", "needs sentinel_password"}));

TEST(RedactUrl, HidesPasswordsEverywhere) {
  EXPECT_EQ(redact_url("redis://alice:hunter2@h:1/0"), "redis://alice:***@h:1/0");
  EXPECT_EQ(redact_url("redis://:hunter2@h"), "redis://:***@h");
  EXPECT_EQ(redact_url("redis://hunter2@h"), "redis://***@h");
  EXPECT_EQ(redact_url("redis://u:hun@ter2@h"), "redis://u:***@h");
  EXPECT_EQ(redact_url("redis://u:hun/ter2@h"), "redis://u:***@h");
  EXPECT_EQ(redact_url("unix:///s?db=1&password=hunter2&user=u"),
            "unix:///s?db=1&password=***&user=u");
  EXPECT_EQ(redact_url("redis-sentinel://:a@s1?sentinel_password=hunter2#m"),
            "redis-sentinel://:***@s1?sentinel_password=***#m");
  EXPECT_EQ(redact_url("redis://h:1"), "redis://h:1");
  EXPECT_EQ(redact_url("no url at all"), "no url at all");
}

}  // namespace
}  // namespace distkit::detail
