#include "redis_target.hpp"

#include <cstdlib>

#include "redis_endpoint.hpp"
#include "url_in_use.hpp"

namespace distkit::tools {

std::string configured_url(const std::string& url_option) {
  if (!url_option.empty()) return url_option;
  const char* from_environment = std::getenv("REDIS_URL");
  return from_environment != nullptr ? from_environment : "";
}

ClientOptions operator_client_options(const GlobalOptions& options) {
  ClientOptions client_options;
  const std::string configured = configured_url(options.url);
  client_options.url = configured.empty() ? "redis://127.0.0.1:6379" : configured;
  client_options.tls = options.tls;
  return client_options;
}

RedisTarget::RedisTarget(const std::string& url_option) : url_(configured_url(url_option)) {
  if (url_.empty()) {
    server_ = std::make_unique<LocalRedisServer>();
    url_ = server_->url();
  }
  set_url_in_use(url_);
  RedisEndpoint::parse(url_);  // a malformed URL fails before anything is measured
}

std::string RedisTarget::description() const {
  const RedisEndpoint endpoint = RedisEndpoint::parse(url_);
  std::string where = "redis://" + endpoint.host + ":" + std::to_string(endpoint.port);
  if (endpoint.db != 0) where += "/" + std::to_string(endpoint.db);
  return server_ != nullptr ? "a private redis-server at " + where : where;
}

}  // namespace distkit::tools
