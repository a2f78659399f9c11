// JSON output for scripts: string escaping that keeps any key recoverable,
// and a small builder for the flat objects the tool prints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distkit::tools {

// `bytes` as a JSON string literal, quotes included. Quotes, backslashes and
// control characters are escaped; valid UTF-8 passes through. A byte that is
// not part of valid UTF-8 (keys are arbitrary bytes) becomes \udcXX, XX being
// its value: Python's "surrogateescape", so
// json.loads(line)["key"].encode("utf-8", "surrogateescape") gives back the
// exact key, and no two keys print alike.
std::string json_string(std::string_view bytes);

// A JSON number; NaN and infinities, which JSON lacks, become null.
std::string json_number(double value);

// Builds one JSON object, members in the order they are added. The adders
// are named by type because a string literal would otherwise pick the bool
// overload.
class JsonObject {
 public:
  JsonObject& add_string(std::string_view name, std::string_view value);
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
