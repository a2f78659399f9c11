#include "redis_endpoint.hpp"

#include <climits>
#include <distkit/error.hpp>

#include "client/url.hpp"

namespace distkit::tools {

RedisEndpoint RedisEndpoint::parse(const std::string& url) {
  // The library's parser, so that the tool accepts exactly what
  // Client::connect accepts; hiredis and redis-benchmark reach plain TCP only.
  const detail::RedisUrl parsed = detail::parse_redis_url(url);
  if (parsed.scheme != detail::UrlScheme::redis) {
    throw Error(Errc::invalid_argument,
                "this command needs a redis:// URL (plain TCP), not " + detail::redact_url(url));
  }
  if (parsed.db > INT_MAX) {
    throw Error(Errc::invalid_argument,
                "the Redis URL's db " + std::to_string(parsed.db) + " is out of range");
  }
  RedisEndpoint endpoint;
  endpoint.host = parsed.hosts.front().host;
  endpoint.port = parsed.hosts.front().port;
  endpoint.user = parsed.credentials.user.value_or("");
  endpoint.password = parsed.credentials.password.value_or("");
  endpoint.db = static_cast<int>(parsed.db);
  return endpoint;
}

std::vector<std::string> RedisEndpoint::command_line_options() const {
  std::vector<std::string> options{"-h", host, "-p", std::to_string(port)};
  if (!password.empty()) options.insert(options.end(), {"-a", password});
  if (!user.empty()) options.insert(options.end(), {"--user", user});
  if (db != 0) options.insert(options.end(), {"--dbnum", std::to_string(db)});
  return options;
}

}  // namespace distkit::tools
