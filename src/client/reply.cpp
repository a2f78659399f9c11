#include "client/reply.hpp"

namespace distkit::detail {

bool Reply::is_error_code(std::string_view code) const noexcept {
  if (kind != Kind::error || !text.starts_with(code)) return false;
  return text.size() == code.size() || text[code.size()] == ' ';
}

}  // namespace distkit::detail
