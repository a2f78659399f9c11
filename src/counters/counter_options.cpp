#include "counters/counter_options.hpp"

#include <string>

#include "distkit/error.hpp"

namespace distkit::detail {

void check_counter_options(const CounterOptions& options) {
  if (!options.client) throw Error(Errc::invalid_argument, "CounterOptions::client is null");
  if (options.shards != 1) {
    throw Error(Errc::invalid_argument,
                "CounterOptions::shards is " + std::to_string(options.shards) +
                    "; only 1 is supported until sharded counters (Redis Cluster) are built");
  }
}

}  // namespace distkit::detail
