#include "script_stats.hpp"

#include <sstream>
#include <string>

namespace distkit::tools {

ScriptStats ScriptStats::query(RawRedis& redis) {
  std::istringstream lines(redis.query({"INFO", "commandstats"}));
  ScriptStats total;
  for (std::string line; std::getline(lines, line);) {
    // cmdstat_evalsha:calls=12,usec=345,usec_per_call=28.75,...
    for (const char* command : {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}) {
      const std::string head = "cmdstat_" + std::string(command) + ":calls=";
      if (!line.starts_with(head)) continue;
      total.calls += std::stoll(line.substr(head.size()));
      constexpr std::string_view usec = ",usec=";
      const auto at = line.find(usec);
      if (at != std::string::npos) total.micros += std::stoll(line.substr(at + usec.size()));
    }
  }
  return total;
}

}  // namespace distkit::tools
