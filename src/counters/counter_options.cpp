#include "counters/counter_options.hpp"

#include <string>

#include "counters/shard_layout.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {

void check_counter_options(const CounterOptions& options) {
  if (!options.client) throw Error(Errc::invalid_argument, "CounterOptions::client is null");
  if (options.shards < 1 || options.shards > max_counter_shards) {
    throw Error(Errc::invalid_argument,
                "CounterOptions::shards is " + std::to_string(options.shards) +
                    "; it must be from 1 to " + std::to_string(max_counter_shards));
  }
}

}  // namespace distkit::detail
