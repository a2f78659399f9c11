// The bench's chart: StrictCounter throughput against concurrency, next to
// redis-benchmark at the same pipeline depth.
#pragma once

#include <string>
#include <vector>

#include "bench_result.hpp"

namespace distkit::tools {

// A gnuplot script, data included, that plots the rows with
// concurrent_callers > 0 into a PNG at `png_path`. Kept as a file next to the
// chart, so the chart can be restyled and redrawn without rerunning the bench.
std::string throughput_chart_script(const std::vector<BenchResult>& results,
                                    const std::string& png_path);

// Runs `gnuplot script_path`. Returns an empty string on success, else why
// it failed.
std::string run_gnuplot(const std::string& script_path);

}  // namespace distkit::tools
