#include "counters/decimal.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace distkit::detail {

std::optional<std::int64_t> parse_int64(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  const bool negative = text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  // from_chars alone would accept "007" and "-0", which Redis would not.
  if (digits.empty() || (digits.front() == '0' && (digits.size() > 1 || negative))) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::string to_decimal(int128 value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  std::string digits;
  // Work on the negative side so that the minimum value has no overflow.
  int128 rest = negative ? value : -value;
  while (rest != 0) {
    digits.push_back(static_cast<char>('0' - static_cast<int>(rest % 10)));
    rest /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '\'' || c == '\\') {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace distkit::detail
