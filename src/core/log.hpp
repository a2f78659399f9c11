// Internal logging entry point; the public hook is in distkit/log.hpp.
#pragma once

#include <string_view>

#include "distkit/log.hpp"

namespace distkit::detail {

// Sends `message` to the installed LogHandler (stderr by default).
void log(LogLevel level, std::string_view message);

}  // namespace distkit::detail
