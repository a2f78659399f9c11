// Aligned plain-text tables for the demo's and the bench's summaries.
#pragma once

#include <string>
#include <vector>

namespace distkit::tools {

using TableRow = std::vector<std::string>;

// Renders `rows` in columns two spaces apart, with a rule under the first
// row (the header). Columns are left-aligned.
std::string render_table(const std::vector<TableRow>& rows);

}  // namespace distkit::tools
