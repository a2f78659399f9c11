// The options every distkit command accepts, before or after its name.
#pragma once

#include <distkit/client.hpp>
#include <string>

namespace distkit::tools {

// The largest --shards, CounterOptions::shards' upper bound.
inline constexpr int max_shards = 1024;

struct GlobalOptions {
  std::string url;  // empty: $REDIS_URL, then the command's own default
  std::string prefix = "distkit";
  bool lax = false;  // address <prefix>:lax_counter instead of <prefix>:strict_counter
  bool json = false;
  bool instance_aware = false;  // <prefix>:instance_aware_counter (lax_instance_aware_counter)
  int shards = 1;               // CounterOptions::shards of the strict or lax counter addressed
  TlsOptions tls;               // --tls-ca, --tls-cert, --tls-key, --tls-insecure (rediss schemes)
};

}  // namespace distkit::tools
