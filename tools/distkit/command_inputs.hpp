// Checking what a user typed before anything is sent: keys, the prefix and
// numbers, with messages that name the input at fault.
#pragma once

#include <cstdint>
#include <distkit/redis_key.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class Validator;
}

namespace distkit::tools {

// `bytes` in single quotes for a one-line message on a terminal: printable
// ASCII as is, '\'' and '\\' backslash-escaped, every other byte as \xNN, so
// a hostile key can neither break the line nor drive the terminal.
std::string quoted_bytes(std::string_view bytes);

// The KEY argument as a RedisKey. Throws ToolError{exit_usage}
// "invalid key '<key>': <why>" when it breaks RedisKey's rules.
RedisKey key_argument(const std::string& key);

// The --prefix option as a RedisKey, reserving `suffix` (which the command
// appends, e.g. "_demo_<pid>") in the 255-byte limit. Throws
// ToolError{exit_usage} "invalid --prefix '<prefix>': <why>".
RedisKey prefix_option(const std::string& prefix, std::string_view suffix = {});

// A count as the tool accepts it: "0", or an optional '-' then a decimal
// number without leading zeros, within int64. No '+', no "-0", no spaces,
// no octal or hex: anything else could be a typo that writes a value the
// user did not mean.
std::optional<std::int64_t> parse_canonical_int64(std::string_view text);

// A CLI11 check for an integer option or argument: canonical as above and
// within [min, max]; the message names the bounds.
CLI::Validator canonical_int64(std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX);

// A CLI11 check for a duration in seconds: digits, optionally a '.' and more
// digits ("3", "0.5"), within [min, max]. No exponents, signs, "inf" or
// "nan".
CLI::Validator decimal_seconds(double min, double max);

}  // namespace distkit::tools
