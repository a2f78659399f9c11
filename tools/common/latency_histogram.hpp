// Latency percentiles that can be merged across processes.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace distkit::tools {

// A log-linear histogram of nanosecond latencies: 8 buckets per power of
// two, so a percentile is exact to within 1/8 (12.5%) of its value. Fixed
// size, so recording never allocates; merges exactly, and serializes to one
// text line for sending between processes.
class LatencyHistogram {
 public:
  void record(std::chrono::nanoseconds latency) noexcept;
  void merge(const LatencyHistogram& other) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  // The latency below which `fraction` (0..1) of the samples fall; the
  // bucket's upper bound. Zero when empty.
  std::chrono::nanoseconds percentile(double fraction) const noexcept;

  // "index:count index:count ..." of the non-empty buckets.
  std::string serialize() const;
  // Adds what serialize() produced; ignores malformed pieces.
  void merge_serialized(std::string_view text);

 private:
  static constexpr int sub_buckets = 8;
  static constexpr int bucket_count = 64 * sub_buckets;
  static int bucket_of(std::uint64_t nanos) noexcept;
  static std::uint64_t upper_bound_of(int bucket) noexcept;

  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t count_ = 0;
};

}  // namespace distkit::tools
