// The bench's results as a table for people, JSON for scripts and CSV for
// spreadsheets.
#pragma once

#include <string>
#include <vector>

#include "bench_result.hpp"

namespace distkit::tools {

std::string bench_table(const std::vector<BenchResult>& results);

// The "results" array of `distkit bench --json`.
std::string bench_json_rows(const std::vector<BenchResult>& results);

std::string bench_csv(const std::vector<BenchResult>& results);

}  // namespace distkit::tools
