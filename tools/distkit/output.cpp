#include "output.hpp"

#include <algorithm>
#include <cstdio>
#include <distkit/error.hpp>
#include <iostream>

namespace distkit::tools {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  if (lead >= 0xc2 && lead <= 0xdf)
    length = 2;
  else if (lead >= 0xe0 && lead <= 0xef)
    length = 3;
  else if (lead >= 0xf0 && lead <= 0xf4)
    length = 4;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
    } else if (const std::size_t length = byte >= 0x80 ? utf8_sequence(text, i) : 0) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    }
    ++i;
  }
  return out + "\"";
}

int report_failure(const std::exception& error) {
  std::string message = error.what();
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::cerr << "distkit: " << message << '\n';
  const auto* failure = dynamic_cast<const distkit::Error*>(&error);
  if (failure == nullptr) return exit_failure;
  const auto code = failure->code();
  if (code == Errc::invalid_key || code == Errc::invalid_argument) return exit_usage;
  if (code == Errc::redis) return exit_redis_error;
  if (code == Errc::overflow) return exit_overflow;
  return exit_unreachable;
}

std::string render_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      out += rows[r][c];
      if (c + 1 < rows[r].size()) out += std::string(widths[c] - rows[r][c].size() + 2, ' ');
    }
    out += '\n';
    if (r == 0) {
      std::size_t total = 0;
      for (const auto width : widths) total += width + 2;
      out += std::string(total - 2, '-') + '\n';
    }
  }
  return out;
}

std::string with_thousands(std::int64_t value) {
  const std::string digits = std::to_string(value);
  const std::size_t sign = value < 0 ? 1 : 0;
  std::string out = digits.substr(0, sign);
  for (std::size_t i = sign; i < digits.size(); ++i) {
    if (i > sign && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string format_nanos(double nanos) {
  if (nanos < 1000) return fixed(nanos, 0) + " ns";
  if (nanos < 1e6) return fixed(nanos / 1e3, nanos < 1e4 ? 2 : 1) + " us";
  return fixed(nanos / 1e6, 2) + " ms";
}

}  // namespace distkit::tools
