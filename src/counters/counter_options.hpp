// The checks of CounterOptions both counter flavours make at creation.
#pragma once

#include "distkit/counter.hpp"

namespace distkit::detail {

// Throws Error{Errc::invalid_argument} when the client is null or `shards`
// is outside 1..max_counter_shards.
void check_counter_options(const CounterOptions& options);

}  // namespace distkit::detail
