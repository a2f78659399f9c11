#include "json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace distkit::tools {
namespace {

bool is_continuation(unsigned char byte) {
  return (byte & 0xc0) == 0x80;
}

// Length of the well-formed UTF-8 sequence that starts `text` (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;  // shorter forms exist: overlong
    if (lead == 0xed) second_max = 0x9f;  // U+D800..U+DFFF are surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;  // overlong
    if (lead == 0xf4) second_max = 0x8f;  // above U+10FFFF
  }
  if (length == 0 || text.size() < length) return 0;
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!is_continuation(byte(i))) return 0;
  }
  return length;
}

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      group = (group << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= n ? alphabet[(group >> (18 - 6 * j)) & 0x3f] : '=';
    }
  }
  return out;
}

void append_unicode_escape(std::string& out, unsigned code_unit) {
  char escaped[8];
  std::snprintf(escaped, sizeof escaped, "\\u%04x", code_unit);
  out += escaped;
}

}  // namespace

std::string json_string(std::string_view bytes) {
  std::string out = "\"";
  out.reserve(bytes.size() + 2);
  while (!bytes.empty()) {
    const auto byte = static_cast<unsigned char>(bytes.front());
    std::size_t consumed = 1;
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      append_unicode_escape(out, byte);
    } else if (byte < 0x80) {
      out += static_cast<char>(byte);
    } else if (const std::size_t length = utf8_sequence_length(bytes)) {
      out.append(bytes.substr(0, length));
      consumed = length;
    } else {
      out += "\\ufffd";  // not UTF-8: only reached by text the tool made up
    }
    bytes.remove_prefix(consumed);
  }
  return out + "\"";
}

bool is_valid_utf8(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t length =
        static_cast<unsigned char>(bytes.front()) < 0x80 ? 1 : utf8_sequence_length(bytes);
    if (length == 0) return false;
    bytes.remove_prefix(length);
  }
  return true;
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

void JsonObject::add_name(std::string_view name) {
  if (!members_.empty()) members_ += ',';
  members_ += json_string(name);
  members_ += ':';
}

JsonObject& JsonObject::add_string(std::string_view name, std::string_view value) {
  add_name(name);
  members_ += json_string(value);
  return *this;
}

JsonObject& JsonObject::add_bytes(std::string_view name, std::string_view bytes) {
  if (is_valid_utf8(bytes)) return add_string(name, bytes);
  add_name(std::string(name) + "_base64");
  members_ += '"' + base64(bytes) + '"';
  return *this;
}

JsonObject& JsonObject::add_int(std::string_view name, std::int64_t value) {
  add_name(name);
  members_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::add_number(std::string_view name, double value) {
  add_name(name);
  members_ += json_number(value);
  return *this;
}

JsonObject& JsonObject::add_bool(std::string_view name, bool value) {
  add_name(name);
  members_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::add_json(std::string_view name, std::string_view json) {
  add_name(name);
  members_ += json;
  return *this;
}

std::string json_array(const std::vector<std::string>& elements) {
  std::string out = "[";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    out += elements[i];
  }
  return out + "]";
}

}  // namespace distkit::tools
