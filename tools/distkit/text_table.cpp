#include "text_table.hpp"

#include <algorithm>

namespace distkit::tools {

std::string render_table(const std::vector<TableRow>& rows) {
  constexpr std::size_t gap = 2;
  std::vector<std::size_t> widths;
  for (const TableRow& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      line += rows[r][c];
      line.append(widths[c] - rows[r][c].size() + gap, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + '\n';
    if (r == 0) {
      std::size_t total = 0;
      for (const std::size_t width : widths) total += width + gap;
      out += std::string(total - gap, '-') + '\n';
    }
  }
  return out;
}

}  // namespace distkit::tools
