// What the Redis server says about the scripts it ran: the bench's count of
// Redis calls and of server time per call.
#pragma once

#include <cstdint>

#include "raw_redis.hpp"

namespace distkit::tools {

// Script invocations (EVAL, EVALSHA, FCALL and their _RO forms) and the
// microseconds the server spent in them, from INFO commandstats. The
// commands a script runs are counted there too (as HINCRBY, ...), so only
// the script commands, which are the ones that arrive over the network, are
// summed.
struct ScriptStats {
  std::int64_t calls = 0;
  std::int64_t micros = 0;

  // The calls and time between `earlier` and this snapshot.
  ScriptStats operator-(const ScriptStats& earlier) const {
    return {calls - earlier.calls, micros - earlier.micros};
  }
  double micros_per_call() const {
    return calls > 0 ? static_cast<double>(micros) / static_cast<double>(calls) : 0;
  }

  static ScriptStats query(RawRedis& redis);
};

}  // namespace distkit::tools
