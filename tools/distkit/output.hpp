// How the distkit tool talks to its user: values, JSON, tables, errors and
// exit codes.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace distkit::tools {

// Exit codes of the distkit tool (also listed in --help).
enum ExitCode : int {
  exit_ok = 0,
  exit_unreachable = 1,  // Redis unreachable, timeout, or closed
  exit_usage = 2,        // bad arguments, key, prefix or URL
  exit_redis_error = 3,  // Redis answered with an error (WRONGTYPE, non-integer field)
  exit_overflow = 4,     // the result would leave int64
  exit_failure = 5,      // anything else (e.g. redis-server could not be started)
};

inline constexpr std::string_view exit_codes_help =
    "Exit codes: 0 ok, 1 Redis unreachable or timed out, 2 bad arguments/key/URL,\n"
    "3 Redis error (WRONGTYPE, non-integer value), 4 int64 overflow, 5 other failure.";

// `text` as a JSON string literal, quotes included. Bytes that are not
// valid UTF-8 are escaped as \u00XX of their value so any key round-trips
// into valid JSON.
std::string json_string(std::string_view text);

// Prints the message of the exception currently being handled as one line
// "distkit: <message>" on stderr and returns the matching exit code.
int report_failure(const std::exception& error);

// Renders rows as an aligned text table; the first row is the header.
std::string render_table(const std::vector<std::vector<std::string>>& rows);

// 1234567 -> "1,234,567".
std::string with_thousands(std::int64_t value);

// 850 -> "850 ns", 12345 -> "12.3 us", 4500000 -> "4.50 ms".
std::string format_nanos(double nanos);

// A number with `digits` decimals.
std::string fixed(double value, int digits);

}  // namespace distkit::tools
