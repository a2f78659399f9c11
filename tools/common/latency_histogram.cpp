#include "latency_histogram.hpp"

#include <bit>
#include <charconv>
#include <sstream>

namespace distkit::tools {

int LatencyHistogram::bucket_of(std::uint64_t nanos) noexcept {
  if (nanos < sub_buckets) return static_cast<int>(nanos);
  const int magnitude = std::bit_width(nanos) - 1;  // >= 3
  const auto fraction = static_cast<int>((nanos >> (magnitude - 3)) & (sub_buckets - 1));
  return (magnitude - 2) * sub_buckets + fraction;
}

std::uint64_t LatencyHistogram::upper_bound_of(int bucket) noexcept {
  if (bucket < sub_buckets) return static_cast<std::uint64_t>(bucket);
  const int magnitude = bucket / sub_buckets + 2;
  const auto fraction = static_cast<std::uint64_t>(bucket % sub_buckets);
  return ((sub_buckets + fraction + 1) << (magnitude - 3)) - 1;
}

void LatencyHistogram::record(std::chrono::nanoseconds latency) noexcept {
  const auto nanos = static_cast<std::uint64_t>(latency.count() < 0 ? 0 : latency.count());
  ++counts_[static_cast<std::size_t>(bucket_of(nanos))];
  ++count_;
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
}

std::chrono::nanoseconds LatencyHistogram::percentile(double fraction) const noexcept {
  if (count_ == 0) return std::chrono::nanoseconds(0);
  const auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(count_ - 1)) + 1;
  std::uint64_t seen = 0;
  for (int bucket = 0; bucket < bucket_count; ++bucket) {
    seen += counts_[static_cast<std::size_t>(bucket)];
    if (seen >= rank) return std::chrono::nanoseconds(upper_bound_of(bucket));
  }
  return std::chrono::nanoseconds(upper_bound_of(bucket_count - 1));
}

std::string LatencyHistogram::serialize() const {
  std::ostringstream out;
  for (int bucket = 0; bucket < bucket_count; ++bucket) {
    if (const auto n = counts_[static_cast<std::size_t>(bucket)]) out << bucket << ':' << n << ' ';
  }
  return out.str();
}

void LatencyHistogram::merge_serialized(std::string_view text) {
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view piece = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    const auto colon = piece.find(':');
    if (colon == std::string_view::npos) continue;
    int bucket = 0;
    std::uint64_t n = 0;
    auto [end_bucket, bucket_ec] = std::from_chars(piece.data(), piece.data() + colon, bucket);
    auto [end_n, n_ec] = std::from_chars(piece.data() + colon + 1, piece.data() + piece.size(), n);
    if (bucket_ec != std::errc{} || n_ec != std::errc{} || bucket < 0 || bucket >= bucket_count) {
      continue;
    }
    counts_[static_cast<std::size_t>(bucket)] += n;
    count_ += n;
  }
}

}  // namespace distkit::tools
