// Parsing of redis:// URLs into connection parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace distkit::detail {

struct Endpoint {
  std::string host;
  std::uint16_t port = 6379;
  // AUTH credentials: a password alone uses `AUTH password`, a user and a
  // password `AUTH user password` (Redis ACL).
  std::optional<std::string> user;
  std::optional<std::string> password;
  std::int64_t db = 0;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses redis://[[user]:password@]host[:port][/db]. Percent-escapes in the
// user and password are decoded. Throws Error{Errc::invalid_argument} naming
// what is wrong when the URL is malformed, the scheme is not redis, the host
// is missing, the port is not in 1..65535, the db is not a non-negative
// integer, a user is given without a password, or a query or fragment is
// present.
Endpoint parse_redis_url(std::string_view url);

}  // namespace distkit::detail
