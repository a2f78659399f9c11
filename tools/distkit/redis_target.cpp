#include "redis_target.hpp"

#include <cstdlib>

#include "client/url.hpp"
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

std::vector<std::string> tls_arguments(const TlsOptions& tls) {
  std::vector<std::string> arguments;
  for (const auto& [option, value] :
       {std::pair{"--tls-ca", &tls.ca_file}, std::pair{"--tls-cert", &tls.cert_file},
        std::pair{"--tls-key", &tls.key_file}}) {
    if (!value->empty()) arguments.insert(arguments.end(), {option, *value});
  }
  if (!tls.verify_peer) arguments.emplace_back("--tls-insecure");
  return arguments;
}

RedisTarget::RedisTarget(const GlobalOptions& options, LocalListeners private_listeners) {
  options_.url = configured_url(options.url);
  options_.tls = options.tls;
  if (options_.url.empty()) {
    server_ = std::make_unique<LocalRedisServer>(std::vector<std::string>{}, private_listeners);
    options_.url = server_->url();
  }
  set_url_in_use(options_.url);
  detail::parse_redis_url(options_.url);  // a malformed URL fails before anything starts
}

RedisTarget::RedisTarget(PrivateTls)
    : server_(std::make_unique<LocalRedisServer>(std::vector<std::string>{},
                                                 LocalListeners::plain_and_tls)),
      options_(*private_tls_options()) {
  set_url_in_use(options_.url);
}

RedisTarget::RedisTarget(PrivateCluster cluster)
    : cluster_(std::make_unique<LocalRedisCluster>(cluster.masters)) {
  options_.url = cluster_->url();
  set_url_in_use(options_.url);
}

std::optional<ClientOptions> RedisTarget::private_tls_options() const {
  if (server_ == nullptr || server_->tls_port() == 0) return std::nullopt;
  ClientOptions options;
  options.url = server_->tls_url();
  options.tls.ca_file = server_->ca_file();
  return options;
}

std::string RedisTarget::description() const {
  if (cluster_ != nullptr) {
    return "a private Redis Cluster of " + std::to_string(cluster_->masters().size()) +
           " masters at " + options_.url;
  }
  if (server_ == nullptr) return detail::redact_url(options_.url);
  return "a private redis-server at " + options_.url +
         (options_.url == server_->tls_url() ? " (TLS, verified against a CA made for this run)"
                                             : "");
}

}  // namespace distkit::tools
