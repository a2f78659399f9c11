#include "client/refusal.hpp"

#include <array>
#include <string_view>

namespace distkit::detail {

std::optional<Refusal> classify_refusal(const Reply& reply, bool is_script) noexcept {
  if (!reply.is_error()) return std::nullopt;
  if (reply.is_error_code("NOSCRIPT")) {
    return is_script ? std::optional(Refusal::noscript) : std::nullopt;
  }
  constexpr std::array<std::string_view, 4> passing{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN"};
  for (std::string_view code : passing) {
    if (reply.is_error_code(code)) return Refusal::passing;
  }
  if (reply.is_error_code("READONLY") || reply.is_error_code("MASTERDOWN")) {
    return Refusal::relocate;
  }
  return std::nullopt;
}

bool is_authentication_error(const Reply& reply) noexcept {
  if (!reply.is_error()) return false;
  if (reply.is_error_code("WRONGPASS") || reply.is_error_code("NOPERM") ||
      reply.is_error_code("NOAUTH")) {
    return true;
  }
  // Redis before 6 answered a bad AUTH with "ERR invalid password".
  return reply.is_error_code("ERR") && reply.text.find("password") != std::string::npos;
}

}  // namespace distkit::detail
