// A decoded RESP2 reply.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distkit::detail {

struct Reply {
  enum class Kind { status, error, integer, string, nil, array };

  Kind kind = Kind::nil;
  std::int64_t integer = 0;     // Kind::integer
  std::string text;             // Kind::status, Kind::error, Kind::string
  std::vector<Reply> elements;  // Kind::array

  bool is_error() const noexcept { return kind == Kind::error; }
  // True for an error reply whose first word is `code`, e.g. "NOSCRIPT".
  bool is_error_code(std::string_view code) const noexcept;
};

}  // namespace distkit::detail
