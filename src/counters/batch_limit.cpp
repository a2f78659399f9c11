#include "counters/batch_limit.hpp"

#include <string>

#include "distkit/counter.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {

void check_batch_size(std::string_view operation, std::size_t entries) {
  if (entries <= max_batch_entries) return;
  throw Error(Errc::invalid_argument, std::string(operation) + " of " + std::to_string(entries) +
                                          " entries exceeds max_batch_entries (" +
                                          std::to_string(max_batch_entries) +
                                          "); split it into smaller batches");
}

}  // namespace distkit::detail
