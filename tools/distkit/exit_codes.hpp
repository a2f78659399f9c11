// The tool's exit codes, and turning a failure into a one-line message and
// one of them.
#pragma once

#include <boost/system/error_code.hpp>
#include <functional>
#include <stdexcept>
#include <string>
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
  exit_refused = 6,      // Redis refused the URL's credentials or db (AUTH, SELECT, NOAUTH)
};

inline constexpr std::string_view exit_codes_help =
    "Exit codes: 0 ok; 1 Redis unreachable, timed out or closed; 2 bad arguments, key,\n"
    "prefix or URL (nothing was sent); 3 Redis answered with an error (WRONGTYPE,\n"
    "non-integer value); 4 the result would leave int64 (nothing changed); 5 any other\n"
    "failure; 6 Redis refused the URL's password, user or db.\n";

// A failure of the tool itself that carries its exit code.
class ToolError : public std::runtime_error {
 public:
  ToolError(ExitCode exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  ExitCode exit_code() const noexcept { return exit_code_; }

 private:
  ExitCode exit_code_;
};

// The exit code of a failure with `code` (a distkit::Errc, or another error).
ExitCode exit_code_for(const boost::system::error_code& code);

// Prints "distkit: <message>" as one line on stderr, with CR and LF turned
// into spaces and the credentials of the Redis URL in use masked. Prints
// nothing once a termination signal is being handled: failures then are the
// cleanup's doing.
void print_failure(std::string message);

// For demo and bench: cleans up what the command starts on SIGINT, SIGTERM
// and SIGHUP (termination_cleanup.hpp), and keeps the library's log quiet
// while that happens. Call before any thread starts.
void clean_up_when_interrupted();

// Runs `body` and returns its exit code. An exception escaping it is printed
// with print_failure() and mapped to its exit code. A connection failure or
// Redis error that comes from Redis refusing the URL's password, user or db
// is reported as such, with exit_refused.
int run_reporting_failure(const std::function<int()>& body);

}  // namespace distkit::tools
