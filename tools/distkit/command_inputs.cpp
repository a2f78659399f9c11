#include "command_inputs.hpp"

#include <CLI/CLI.hpp>
#include <charconv>

#include "exit_codes.hpp"

namespace distkit::tools {
namespace {

// Why `text` is not a valid RedisKey, in the words of RedisKey's contract.
std::optional<std::string> why_not_a_key(std::string_view text, std::size_t max_size) {
  if (text.empty()) return "it is empty";
  if (text.size() > max_size) {
    return "it is " + std::to_string(text.size()) + " bytes, at most " + std::to_string(max_size) +
           " are allowed";
  }
  if (text.find(':') != std::string_view::npos) return "it contains ':'";
  return std::nullopt;
}

// 0.1 -> "0.1", 3600 -> "3600".
std::string shortest(double value) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::string quoted_bytes(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "'";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += hex[byte >> 4];
      out += hex[byte & 0xf];
    }
  }
  return out + "'";
}

RedisKey key_argument(const std::string& key) {
  if (const auto why = why_not_a_key(key, RedisKey::max_size)) {
    throw ToolError(exit_usage, "invalid key " + quoted_bytes(key) + ": " + *why);
  }
  return RedisKey(key);
}

RedisKey prefix_option(const std::string& prefix, std::string_view suffix) {
  const std::size_t room =
      RedisKey::max_size > suffix.size() ? RedisKey::max_size - suffix.size() : 0;
  if (const auto why = why_not_a_key(prefix, room)) {
    throw ToolError(exit_usage, "invalid --prefix " + quoted_bytes(prefix) + ": " + *why);
  }
  return RedisKey(prefix + std::string(suffix));
}

std::optional<std::int64_t> parse_canonical_int64(std::string_view text) {
  std::string_view digits = text;
  if (digits.starts_with('-')) digits.remove_prefix(1);
  if (!all_digits(digits)) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;  // 010, 00
  if (text == "-0") return std::nullopt;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

CLI::Validator canonical_int64(std::int64_t min, std::int64_t max) {
  const bool full_range = min == INT64_MIN && max == INT64_MAX;
  const std::string wanted =
      full_range ? "a decimal integer in the int64 range"
                 : "a decimal integer from " + std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, wanted](std::string& text) -> std::string {
        const auto value = parse_canonical_int64(text);
        if (!value || *value < min || *value > max) {
          return quoted_bytes(text) + " is not " + wanted +
                 " (digits only, no '+', no leading zeros)";
        }
        return "";
      },
      "");
}

CLI::Validator decimal_seconds(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        const auto point = text.find('.');
        const bool well_formed =
            all_digits(std::string_view(text).substr(0, point)) &&
            (point == std::string::npos || all_digits(std::string_view(text).substr(point + 1)));
        double value = 0;
        if (well_formed) std::from_chars(text.data(), text.data() + text.size(), value);
        if (!well_formed || value < min || value > max) {
          return quoted_bytes(text) + " is not a number of seconds from " + shortest(min) + " to " +
                 shortest(max) + " (like 3 or 0.5)";
        }
        return "";
      },
      "");
}

}  // namespace distkit::tools
