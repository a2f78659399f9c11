#include "redis_endpoint.hpp"

#include <boost/url/parse.hpp>
#include <charconv>
#include <distkit/error.hpp>

namespace distkit::tools {
namespace {

int parse_number(std::string_view text, const std::string& url) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < 0) {
    throw Error(Errc::invalid_argument, "malformed Redis URL '" + url + "'");
  }
  return value;
}

}  // namespace

RedisEndpoint RedisEndpoint::parse(const std::string& url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "redis" || parsed->host_address().empty()) {
    throw Error(Errc::invalid_argument, "malformed Redis URL '" + url + "'");
  }
  RedisEndpoint endpoint;
  endpoint.host = parsed->host_address();
  if (parsed->has_port()) endpoint.port = parse_number(parsed->port(), url);
  if (parsed->has_password()) {
    endpoint.user = parsed->user();
    endpoint.password = parsed->password();
  }
  std::string_view path = parsed->encoded_path();
  if (path.starts_with('/')) path.remove_prefix(1);
  if (!path.empty()) endpoint.db = parse_number(path, url);
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
