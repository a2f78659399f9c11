#include "counters/operation.hpp"

#include <algorithm>
#include <thread>

namespace distkit::detail {

void spin_briefly(const std::atomic<bool>& flag) noexcept {
  static std::atomic<int> spinning{0};
  static const int max_spinning =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
  if (spinning.fetch_add(1, std::memory_order_relaxed) < max_spinning) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    while (!flag.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
  spinning.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace distkit::detail
