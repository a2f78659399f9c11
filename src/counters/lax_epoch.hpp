// Epoch-based reclamation of LaxCounter slots: lets the strand free a slot
// that lock-free readers may still be touching, once none can be.
#pragma once

#include <atomic>
#include <cstdint>

namespace distkit::detail {

// Details of LaxSection, inline for the warm path.
namespace lax_epoch_internal {
struct alignas(64) Record {
  // 0 outside a section, else the epoch the thread's section entered in.
  std::atomic<std::uint64_t> active{0};
  std::atomic<bool> in_use{true};
  Record* next = nullptr;
};
alignas(64) extern std::atomic<std::uint64_t> current_epoch;
extern bool have_membarrier;
// initial-exec: a plain offset from the thread pointer (see lax_slot_map).
extern constinit thread_local Record* thread_record __attribute__((tls_model("initial-exec")));
Record* register_thread();
}  // namespace lax_epoch_internal

// The process-wide epoch of the lax buffers, and the sections that read
// slots without a lock.
//
// A reader (the warm inc path) wraps its lock-free use of a slot in a
// LaxSection: entering publishes the current epoch in a per-thread record
// and leaving clears it. Both are plain stores on the reader's own cache
// line (no read-modify-write, no shared write, no system call): the
// ordering a reader would otherwise need, its store before its loads, is
// supplied instead by lax_advance_epoch() (the reclaimer), which runs the
// membarrier(2) system call (a barrier on every thread of the process).
// Where membarrier is not available a section entry adds a fence.
//
// The reclaimer (a strand) makes a slot unreachable (or unusable, by its
// state), then calls lax_advance_epoch(); once lax_epoch_passed(the epoch it ended)
// is true, no section can still hold the slot: it may change or free it.
// A thread's first section registers its record (an allocation at most);
// records are reused after their thread ends, never freed.
class LaxSection {
 public:
  LaxSection() noexcept;
  ~LaxSection();
  LaxSection(const LaxSection&) = delete;
  LaxSection& operator=(const LaxSection&) = delete;

 private:
  lax_epoch_internal::Record* record_;
  bool outer_;  // this section opened the thread's record
};

// The current epoch (never 0).
inline std::uint64_t lax_epoch() noexcept;
// Starts a new epoch after the caller's writes, with the barrier above;
// returns the epoch that ended.
std::uint64_t lax_advance_epoch();
// True when no section that entered in `epoch` or earlier is still open.
bool lax_epoch_passed(std::uint64_t epoch);

// ---- Inline parts (the warm path) ----

inline std::uint64_t lax_epoch() noexcept {
  return lax_epoch_internal::current_epoch.load(std::memory_order_acquire);
}

inline LaxSection::LaxSection() noexcept {
  using namespace lax_epoch_internal;
  record_ = thread_record;
  if (record_ == nullptr) record_ = register_thread();
  outer_ = record_->active.load(std::memory_order_relaxed) == 0;
  if (!outer_) return;
  // release: a reclaimer that reads this synchronizes with the end of this
  // thread's previous section.
  record_->active.store(lax_epoch(), std::memory_order_release);
  if (have_membarrier) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

inline LaxSection::~LaxSection() {
  if (outer_) record_->active.store(0, std::memory_order_release);
}

}  // namespace distkit::detail
