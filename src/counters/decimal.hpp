// Exact conversions between int64 values and the decimal strings Redis
// stores. Counter values never pass through a floating-point type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace distkit::detail {

__extension__ typedef __int128 int128;

// The value of a canonical decimal int64 ("0", "-12", no '+', no leading
// zeros, no spaces), or nullopt for anything else.
std::optional<std::int64_t> parse_int64(std::string_view text) noexcept;

// Decimal text of `value`; exact for the whole int128 range.
std::string to_decimal(int128 value);

// True when `value` fits int64.
constexpr bool fits_int64(int128 value) noexcept {
  return value >= INT64_MIN && value <= INT64_MAX;
}

// `text` with bytes outside printable ASCII (and '\'' and '\\') escaped as
// \xNN, for error messages naming user keys.
std::string printable(std::string_view text);

}  // namespace distkit::detail
