// What a demo worker tells the demo, one text line at a time over a pipe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "latency_histogram.hpp"

namespace distkit::tools {

// The counts and latencies of one worker, or of all workers merged.
struct WorkerTally {
  std::uint64_t strict_incs = 0;
  std::uint64_t lax_incs = 0;
  LatencyHistogram strict_latency;
  LatencyHistogram lax_latency;
  bool finished = false;  // the worker flushed and sent its final tally
};

// Lines a worker writes: "progress <strict> <lax>" while counting, then
// "latency strict <histogram>", "latency lax <histogram>" and, last,
// "finished <strict> <lax>" once its lax increments are in Redis.
std::string progress_line(std::uint64_t strict_incs, std::uint64_t lax_incs);
std::string final_lines(const WorkerTally& tally);

// Applies one line (without its newline) to `tally`; ignores anything else.
void apply_report_line(std::string_view line, WorkerTally& tally);

}  // namespace distkit::tools
