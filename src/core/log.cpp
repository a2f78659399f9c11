#include "core/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

namespace distkit {
namespace {

std::mutex& handler_mutex() {
  static std::mutex mutex;
  return mutex;
}

LogHandler& installed_handler() {
  static LogHandler handler;
  return handler;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "?";
}

}  // namespace

LogHandler set_log_handler(LogHandler handler) {
  std::lock_guard lock(handler_mutex());
  return std::exchange(installed_handler(), std::move(handler));
}

namespace detail {

void log(LogLevel level, std::string_view message) {
  std::lock_guard lock(handler_mutex());
  if (installed_handler()) {
    installed_handler()(level, message);
    return;
  }
  std::string line = "distkit ";
  line += level_name(level);
  line += ": ";
  line += message;
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

}  // namespace detail
}  // namespace distkit
