// Which Redis a command of the tool talks to.
#pragma once

#include <distkit/client.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "global_options.hpp"
#include "local_redis_cluster.hpp"
#include "local_redis_server.hpp"

namespace distkit::tools {

// The URL given with --url, else $REDIS_URL, else empty.
std::string configured_url(const std::string& url_option);

// The client options of an operator command: the configured URL, else
// redis://127.0.0.1:6379, with the --tls-* options.
ClientOptions operator_client_options(const GlobalOptions& options);

// The --tls-* options that give `tls` to another process of the tool.
std::vector<std::string> tls_arguments(const TlsOptions& tls);

// The Redis of the demo and the bench: the configured one (any scheme the
// library accepts, with the --tls-* options), or a private redis-server on
// a free loopback port, started here and stopped when this object goes
// away.
class RedisTarget {
 public:
  explicit RedisTarget(const GlobalOptions& options,
                       LocalListeners private_listeners = LocalListeners::plain);

  // A private redis-server serving TLS as well; client_options() reach it
  // over rediss://, verified against the CA made for it.
  struct PrivateTls {};
  explicit RedisTarget(PrivateTls);

  // A private Redis Cluster of `masters` masters (LocalRedisCluster);
  // client_options() reach it over redis-cluster://.
  struct PrivateCluster {
    int masters = 3;
  };
  explicit RedisTarget(PrivateCluster cluster);

  const std::string& url() const noexcept { return options_.url; }
  // url() and the TLS options to reach it with.
  const ClientOptions& client_options() const noexcept { return options_; }
  // How to reach the private server over TLS, when it serves TLS.
  std::optional<ClientOptions> private_tls_options() const;
  // For messages: where it is, without credentials, and whether it is private.
  std::string description() const;
  // The private cluster, or null.
  const LocalRedisCluster* cluster() const noexcept { return cluster_.get(); }

 private:
  std::unique_ptr<LocalRedisServer> server_;
  std::unique_ptr<LocalRedisCluster> cluster_;
  ClientOptions options_;
};

}  // namespace distkit::tools
