// The hook distkit reports background problems through.
#pragma once

#include <functional>
#include <string_view>

namespace distkit {

enum class LogLevel { info, warning, error };

// Receives messages about work that has no caller to throw to: a flush that
// failed and will be retried, increments a LaxCounter could not deliver
// before it was destroyed, a lost connection. Called from distkit's
// background threads; it must be thread-safe and should not block.
using LogHandler = std::function<void(LogLevel, std::string_view message)>;

// Installs `handler` for the whole process and returns the previous one.
// An empty handler restores the default, which writes
// "distkit <level>: <message>" lines to stderr. Thread-safe.
LogHandler set_log_handler(LogHandler handler);

}  // namespace distkit
