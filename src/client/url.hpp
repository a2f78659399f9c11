// Parsing of Redis URLs into connection parameters (sans-IO), and their
// redaction for messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distkit::detail {

enum class UrlScheme {
  redis,            // redis://    one Redis over TCP
  rediss,           // rediss://   the same over TLS
  unix_socket,      // unix://     one Redis over a Unix socket
  redis_sentinel,   // redis-sentinel://   the master Sentinel names
  rediss_sentinel,  // rediss-sentinel://  the same, everything over TLS
  redis_cluster,    // redis-cluster://    Redis Cluster from seed nodes
  rediss_cluster,   // rediss-cluster://   the same, every node over TLS
};

struct HostPort {
  std::string host;  // a name, an IPv4 address or an IPv6 address without brackets
  std::uint16_t port = 0;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Optional AUTH credentials: a password alone is sent as `AUTH password`, a
// user and a password as `AUTH user password` (Redis ACL).
struct Credentials {
  std::optional<std::string> user;
  std::optional<std::string> password;
  friend bool operator==(const Credentials&, const Credentials&) = default;
};

struct RedisUrl {
  UrlScheme scheme = UrlScheme::redis;
  // redis/rediss: the one server; sentinel schemes: the sentinels, in the
  // order they are asked; cluster schemes: the seed nodes.
  std::vector<HostPort> hosts;
  std::string socket_path;  // unix
  Credentials credentials;  // for Redis itself
  std::int64_t db = 0;
  std::string master_name;           // sentinel schemes: the #fragment
  Credentials sentinel_credentials;  // sentinel schemes: ?sentinel_user=&sentinel_password=

  bool uses_tls() const noexcept {
    return scheme == UrlScheme::rediss || scheme == UrlScheme::rediss_sentinel ||
           scheme == UrlScheme::rediss_cluster;
  }
  bool uses_cluster() const noexcept {
    return scheme == UrlScheme::redis_cluster || scheme == UrlScheme::rediss_cluster;
  }
  bool uses_sentinel() const noexcept {
    return scheme == UrlScheme::redis_sentinel || scheme == UrlScheme::rediss_sentinel;
  }
  friend bool operator==(const RedisUrl&, const RedisUrl&) = default;
};

// Parses exactly these forms (percent-escapes are decoded in user, password,
// socket path, query values and master name):
//   redis://[[user]:password@]host[:port][/db]             port 6379
//   rediss://[[user]:password@]host[:port][/db]            port 6379
//   unix:///path/to/socket[?db=N][&user=U][&password=P]
//   redis-sentinel://[[user]:password@]h1[:p1][,h2[:p2]...][/db]#master
//   rediss-sentinel://...                                  ports 26379
//   redis-cluster://[[user]:password@]h1[:p1][,h2[:p2]...][/0]   ports 6379
//   rediss-cluster://...
// with the sentinel schemes also taking ?sentinel_user=U&sentinel_password=P
// (Sentinel's own credentials). Ports are 1..65535 and db a non-negative
// decimal, both written without sign or leading zeros.
// Throws Error{Errc::invalid_argument} naming the part that is wrong; the
// message never contains a password (see redact_url).
RedisUrl parse_redis_url(std::string_view url);

// `url` with every possible secret replaced by "***": the userinfo after
// its first ':' (or all of it when it has no ':'), and the value of every
// query option except db, user and sentinel_user. Works on malformed URLs
// too; use it wherever a URL is printed or logged.
std::string redact_url(std::string_view url);

}  // namespace distkit::detail
