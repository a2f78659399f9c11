#include "client/backoff.hpp"

#include <algorithm>

namespace distkit::detail {

Backoff::Backoff(duration initial, duration maximum, std::uint64_t seed)
    : initial_(initial), maximum_(std::max(initial, maximum)), state_(seed | 1) {}

Backoff::duration Backoff::next() {
  // Doubling stops well before the shift could overflow; `maximum_` caps it.
  const unsigned shift = std::min(attempt_, 20u);
  ++attempt_;
  const auto full = std::min(maximum_, duration(initial_.count() << shift));
  // xorshift64: cheap, and good enough to spread reconnects.
  state_ ^= state_ << 13;
  state_ ^= state_ >> 7;
  state_ ^= state_ << 17;
  const auto half = full.count() / 2;
  const auto spread = static_cast<std::int64_t>(state_ % static_cast<std::uint64_t>(half + 1));
  return duration(full.count() - half + spread);
}

}  // namespace distkit::detail
