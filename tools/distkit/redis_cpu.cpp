#include "redis_cpu.hpp"

#include <map>
#include <sstream>
#include <string>

namespace distkit::tools {

double redis_cpu_seconds(RawRedis& redis) {
  // used_cpu_sys:1.23\r\n used_cpu_user:... used_cpu_sys_main_thread:...
  std::istringstream lines(redis.query({"INFO", "cpu"}));
  std::map<std::string, double, std::less<>> fields;
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    try {
      fields[line.substr(0, colon)] = std::stod(line.substr(colon + 1));
    } catch (const std::logic_error&) {
      // Not a number: not one of the fields read below.
    }
  }
  const auto sum = [&fields](const char* user, const char* sys) {
    return fields.contains(user) && fields.contains(sys) ? fields[user] + fields[sys] : -1.0;
  };
  const double main_thread = sum("used_cpu_user_main_thread", "used_cpu_sys_main_thread");
  return main_thread >= 0 ? main_thread : sum("used_cpu_user", "used_cpu_sys");
}

}  // namespace distkit::tools
