// The batch size limit both counter flavours enforce (max_batch_entries).
#pragma once

#include <cstddef>
#include <string_view>

namespace distkit::detail {

// Throws Error{Errc::invalid_argument} naming `operation` when `entries`
// exceeds max_batch_entries.
void check_batch_size(std::string_view operation, std::size_t entries);

}  // namespace distkit::detail
