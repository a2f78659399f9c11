// The checks of CounterOptions both counter flavours make at creation.
#pragma once

#include "distkit/counter.hpp"

namespace distkit::detail {

// Throws Error{Errc::invalid_argument} when the client is null or `shards`
// is not 1 (sharded counters need Redis Cluster support, not built yet).
void check_counter_options(const CounterOptions& options);

}  // namespace distkit::detail
