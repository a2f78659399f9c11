// Exact latency percentiles of one process's measurements. (The demo, whose
// samples come from several processes, uses the mergeable
// LatencyHistogram instead.)
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

namespace distkit::tools {

class LatencySamples {
 public:
  // Reserving up front keeps allocation out of the measured loop.
  explicit LatencySamples(std::size_t expected_count) { samples_.reserve(expected_count); }

  void record(std::chrono::nanoseconds latency) {
    samples_.push_back(latency);
    sorted_ = false;
  }

  // The nearest-rank percentile: the smallest sample that at least
  // `fraction` (0..1] of the samples do not exceed. Zero when empty.
  std::chrono::nanoseconds percentile(double fraction);

 private:
  std::vector<std::chrono::nanoseconds> samples_;
  bool sorted_ = false;
};

}  // namespace distkit::tools
