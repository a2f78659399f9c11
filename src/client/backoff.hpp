// Reconnect delays (sans-IO).
#pragma once

#include <chrono>
#include <cstdint>

namespace distkit::detail {

// Exponential backoff with "equal jitter": the n-th delay is drawn from
// [d/2, d] where d = min(initial * 2^n, maximum), so that many clients that
// lost Redis at the same moment do not reconnect in lockstep.
class Backoff {
 public:
  using duration = std::chrono::milliseconds;

  Backoff(duration initial, duration maximum, std::uint64_t seed);

  // The delay before the next attempt; grows with each call.
  duration next();
  // Back to `initial` after a success.
  void reset() noexcept { attempt_ = 0; }

 private:
  duration initial_;
  duration maximum_;
  unsigned attempt_ = 0;
  std::uint64_t state_;
};

}  // namespace distkit::detail
