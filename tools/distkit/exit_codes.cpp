#include "exit_codes.hpp"

#include <algorithm>
#include <distkit/error.hpp>
#include <exception>
#include <iostream>
#include <string>

namespace distkit::tools {
namespace {

int exit_code_for(const boost::system::error_code& code) {
  if (code == Errc::invalid_key || code == Errc::invalid_argument) return exit_usage;
  if (code == Errc::connection || code == Errc::timeout || code == Errc::closed) {
    return exit_unreachable;
  }
  if (code == Errc::redis) return exit_redis_error;
  if (code == Errc::overflow) return exit_overflow;
  return exit_failure;
}

// A message from Redis or the system may span lines; the user gets one.
void print_one_line(std::string message) {
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::replace(message.begin(), message.end(), '\r', ' ');
  std::cerr << "distkit: " << message << std::endl;
}

}  // namespace

int run_reporting_failure(const std::function<int()>& body) {
  try {
    return body();
  } catch (const boost::system::system_error& e) {
    // distkit::Error, and the system_error an async call's future throws.
    print_one_line(e.what());
    return exit_code_for(e.code());
  } catch (const std::exception& e) {
    print_one_line(e.what());
    return exit_failure;
  }
}

}  // namespace distkit::tools
