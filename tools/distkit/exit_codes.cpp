#include "exit_codes.hpp"

#include <algorithm>
#include <distkit/error.hpp>
#include <distkit/log.hpp>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "termination_cleanup.hpp"
#include "url_in_use.hpp"

namespace distkit::tools {
ExitCode exit_code_for(const boost::system::error_code& code) {
  if (code == Errc::invalid_key || code == Errc::invalid_argument) return exit_usage;
  if (code == Errc::connection || code == Errc::timeout || code == Errc::closed) {
    return exit_unreachable;
  }
  if (code == Errc::redis) return exit_redis_error;
  if (code == Errc::overflow) return exit_overflow;
  return exit_failure;
}

void print_failure(std::string message) {
  if (termination_requested()) return;
  // A message from Redis or the system may span lines; the user gets one.
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::replace(message.begin(), message.end(), '\r', ' ');
  std::cerr << "distkit: " << without_credentials(message) << std::endl;
}

void clean_up_when_interrupted() {
  clean_up_on_termination_signals([] {
    // The lost connection to a server the cleanup stops is no news.
    set_log_handler([](LogLevel, std::string_view) {});
  });
}

int run_reporting_failure(const std::function<int()>& body) {
  try {
    return body();
  } catch (const ToolError& e) {
    print_failure(e.what());
    return e.exit_code();
  } catch (const boost::system::system_error& e) {
    // distkit::Error, and the system_error an async call's future throws.
    if (e.code() == Errc::connection || e.code() == Errc::redis) {
      // The client names a refused handshake "authentication failed".
      const bool maybe_unreachable =
          e.code() == Errc::connection &&
          std::string_view(e.what()).find("authentication failed") == std::string_view::npos;
      if (auto refusal = why_redis_refuses_url_in_use(maybe_unreachable)) {
        print_failure(*refusal);
        return exit_refused;
      }
    }
    print_failure(e.what());
    return exit_code_for(e.code());
  } catch (const std::exception& e) {
    print_failure(e.what());
    return exit_failure;
  }
}

}  // namespace distkit::tools
