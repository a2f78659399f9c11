// Any bytes as a redis:// URL: parse_redis_url either returns an endpoint
// that keeps its documented promises or throws distkit::Error with
// Errc::invalid_argument; nothing else (no crash, no other exception, no
// undefined behaviour).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "client/url.hpp"
#include "distkit/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  try {
    const distkit::detail::Endpoint endpoint = distkit::detail::parse_redis_url(url);
    if (endpoint.host.empty() || endpoint.port == 0 || endpoint.db < 0) std::abort();
    if (endpoint.user && !endpoint.password) std::abort();  // a user needs a password
  } catch (const distkit::Error& e) {
    if (e.code() != distkit::Errc::invalid_argument) std::abort();
  }
  return 0;
}
