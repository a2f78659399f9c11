#include "latency_samples.hpp"

#include <algorithm>
#include <cmath>

namespace distkit::tools {

std::chrono::nanoseconds LatencySamples::percentile(double fraction) {
  if (samples_.empty()) return std::chrono::nanoseconds(0);
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(samples_.size())));
  return samples_[std::clamp<std::size_t>(rank, 1, samples_.size()) - 1];
}

}  // namespace distkit::tools
