// The bench's chart: StrictCounter throughput against concurrency, next to
// redis-benchmark at the same pipeline depth.
#pragma once

#include <string>
#include <vector>

#include "bench_result.hpp"

namespace distkit::tools {

inline constexpr const char* throughput_chart_file = "throughput.png";
inline constexpr const char* throughput_chart_script_file = "throughput.gp";

// A gnuplot script, data included, that plots the rows with
// concurrent_callers > 0 into throughput_chart_file in the current
// directory. No path is part of the script: a directory name is data, never
// gnuplot code. Kept next to the chart, so the chart can be restyled and
// redrawn (`cd DIR && gnuplot throughput.gp`) without rerunning the bench.
std::string throughput_chart_script(const std::vector<BenchResult>& results);

// Runs gnuplot on throughput_chart_script_file in `directory`, the path
// passed as an argument. Returns an empty string on success, else why it
// failed.
std::string run_gnuplot(const std::string& directory);

}  // namespace distkit::tools
