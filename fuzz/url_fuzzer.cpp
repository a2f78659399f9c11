// Any bytes as a Redis URL: parse_redis_url either returns a RedisUrl that
// keeps its documented promises or throws distkit::Error with
// Errc::invalid_argument, and redact_url takes anything; nothing else (no
// crash, no other exception, no undefined behaviour).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "client/url.hpp"
#include "distkit/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  try {
    const distkit::detail::RedisUrl parsed = distkit::detail::parse_redis_url(url);
    if (parsed.db < 0) std::abort();
    if (parsed.scheme == distkit::detail::UrlScheme::unix_socket) {
      if (parsed.socket_path.empty() || !parsed.hosts.empty()) std::abort();
    } else {
      if (parsed.hosts.empty()) std::abort();
      for (const auto& host : parsed.hosts) {
        if (host.host.empty() || host.port == 0) std::abort();
      }
      const bool host_list = parsed.uses_sentinel() || parsed.uses_cluster();
      if (!host_list && parsed.hosts.size() != 1) std::abort();
      if (parsed.uses_sentinel() && parsed.master_name.empty()) std::abort();
      if (parsed.uses_cluster() && parsed.db != 0) std::abort();  // a cluster has db 0 only
    }
  } catch (const distkit::Error& e) {
    if (e.code() != distkit::Errc::invalid_argument) std::abort();
  }
  (void)distkit::detail::redact_url(url);
  return 0;
}
