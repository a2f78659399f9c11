// Which Redis a command of the tool talks to.
#pragma once

#include <distkit/client.hpp>
#include <memory>
#include <string>

#include "global_options.hpp"
#include "local_redis_server.hpp"

namespace distkit::tools {

// The URL given with --url, else $REDIS_URL, else empty.
std::string configured_url(const std::string& url_option);

// The client options of an operator command: the configured URL, else
// redis://127.0.0.1:6379, with the --tls-* options.
ClientOptions operator_client_options(const GlobalOptions& options);

// The Redis of the demo and the bench: the configured one, or a private
// redis-server on a free loopback port, started here and stopped when this
// object goes away.
class RedisTarget {
 public:
  explicit RedisTarget(const std::string& url_option);
  const std::string& url() const noexcept { return url_; }
  // For messages: where it is, without credentials, and whether it is private.
  std::string description() const;

 private:
  std::unique_ptr<LocalRedisServer> server_;
  std::string url_;
};

}  // namespace distkit::tools
