// The tool's exit codes, and turning a failure into a one-line message and
// one of them.
#pragma once

#include <functional>
#include <string_view>

namespace distkit::tools {

// One code per group of distkit::Errc, so a shell script can tell a typo
// from an outage.
enum ExitCode : int {
  exit_ok = 0,
  exit_unreachable = 1,  // Errc::connection, timeout, closed
  exit_usage = 2,        // Errc::invalid_key, invalid_argument; bad command line
  exit_redis_error = 3,  // Errc::redis (WRONGTYPE, a non-integer value)
  exit_overflow = 4,     // Errc::overflow
  exit_failure = 5,      // anything else: a demo total is off, redis-server would not start
};

inline constexpr std::string_view exit_codes_help =
    "Exit codes: 0 ok; 1 Redis unreachable, timed out or closed; 2 bad arguments, key,\n"
    "prefix or URL; 3 Redis answered with an error (WRONGTYPE, non-integer value);\n"
    "4 the result would leave int64 (nothing changed); 5 any other failure.\n";

// Runs `body` and returns its exit code. An exception escaping it is printed
// as "distkit: <what>" on one line of stderr and mapped to its exit code.
int run_reporting_failure(const std::function<int()>& body);

}  // namespace distkit::tools
