// JSON output for scripts: an encoding of arbitrary bytes that is valid JSON
// and keeps distinct keys distinct, and a small builder for the flat
// objects the tool prints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distkit::tools {

// `text` as a JSON string literal, quotes included. Quotes, backslashes and
// control characters are escaped; valid UTF-8 passes through. For text that
// is valid UTF-8 (RFC 3629) the literal decodes to exactly `text`; a byte
// that is not part of valid UTF-8 becomes U+FFFD, so the result is valid JSON
// but lossy: bytes from the user go through JsonObject::add_bytes instead.
std::string json_string(std::string_view text);

// Whether `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// A JSON number; NaN and infinities, which JSON lacks, become null.
std::string json_number(double value);

// Builds one JSON object, members in the order they are added. The adders
// are named by type because a string literal would otherwise pick the bool
// overload.
class JsonObject {
 public:
  JsonObject& add_string(std::string_view name, std::string_view value);
  // Arbitrary bytes (a key, a path): "name":"<text>" when they are valid
  // UTF-8, else "name_base64":"<standard base64 of the bytes>". Either way
  // the JSON is valid and the exact bytes come back, and distinct byte
  // strings never print alike (the member name tells the two forms apart).
  JsonObject& add_bytes(std::string_view name, std::string_view bytes);
  JsonObject& add_int(std::string_view name, std::int64_t value);
  JsonObject& add_number(std::string_view name, double value);
  JsonObject& add_bool(std::string_view name, bool value);
  // `json` must already be valid JSON (an object or array built here).
  JsonObject& add_json(std::string_view name, std::string_view json);

  std::string str() const { return "{" + members_ + "}"; }

 private:
  void add_name(std::string_view name);
  std::string members_;
};

// "[e1,e2,...]" of elements that are already JSON.
std::string json_array(const std::vector<std::string>& elements);

}  // namespace distkit::tools
