#include "client/url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

[[noreturn]] void reject(std::string_view url, std::string_view why) {
  throw Error(Errc::invalid_argument,
              "malformed Redis URL '" + std::string(url) + "': " + std::string(why));
}

template <class Int>
bool parse_decimal(std::string_view text, Int& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return !text.empty() && ec == std::errc{} && ptr == end;
}

}  // namespace

Endpoint parse_redis_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) reject(url, "not a URI, expected redis://[[user]:password@]host[:port][/db]");
  const boost::urls::url_view& uri = *parsed;
  if (uri.scheme() != "redis") reject(url, "the scheme must be redis");
  if (uri.has_query() || uri.has_fragment()) reject(url, "a query or fragment is not supported");

  Endpoint endpoint;
  endpoint.host = uri.host_address();
  if (endpoint.host.empty()) reject(url, "the host is missing");

  if (uri.has_port()) {
    std::uint32_t port = 0;
    if (!parse_decimal(uri.port(), port) || port == 0 || port > 65535) {
      reject(url, "the port must be a number in 1..65535");
    }
    endpoint.port = static_cast<std::uint16_t>(port);
  }

  if (uri.has_userinfo()) {
    std::string user = uri.user();
    if (uri.has_password()) {
      endpoint.password = uri.password();
      if (!user.empty()) endpoint.user = std::move(user);
    } else if (!user.empty()) {
      reject(url, "a user needs a password (redis://user:password@host)");
    }
  }

  std::string path = uri.path();
  if (!path.empty() && path != "/") {
    if (!parse_decimal(std::string_view(path).substr(1), endpoint.db) || endpoint.db < 0) {
      reject(url, "the path must be a database number, like /0");
    }
  }
  return endpoint;
}

}  // namespace distkit::detail
