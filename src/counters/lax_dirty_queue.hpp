// The LaxCounter's queue of keys with a delta to flush: lock-free for the
// threads that add keys, in the order they were added.
#pragma once

#include <atomic>
#include <cstdint>

namespace distkit::detail {

// A node of LaxDirtyQueue; the queue never owns or frees nodes.
struct LaxDirtyNode {
  std::atomic<LaxDirtyNode*> next_dirty{nullptr};
};

// An intrusive multi-producer single-consumer FIFO queue (D. Vyukov's
// design): push() from any thread is one atomic exchange, one store and one
// atomic increment (no lock, no allocation, no system call); pop() runs on
// one consumer at a time. A node may be in the queue at most once.
//
// pushed() counts every push ever made, so the consumer can take a snapshot
// of "what was queued before now": pop exactly pushed() - (pops so far)
// nodes. A producer that has swapped itself in but not yet linked its node
// makes pop() return nullptr for a moment although nodes are queued; the
// consumer then tries again later.
class LaxDirtyQueue {
 public:
  LaxDirtyQueue() noexcept : head_(&stub_), tail_(&stub_) {}
  LaxDirtyQueue(const LaxDirtyQueue&) = delete;
  LaxDirtyQueue& operator=(const LaxDirtyQueue&) = delete;

  void push(LaxDirtyNode* node) noexcept {
    node->next_dirty.store(nullptr, std::memory_order_relaxed);
    LaxDirtyNode* previous = head_.exchange(node, std::memory_order_acq_rel);
    previous->next_dirty.store(node, std::memory_order_release);
    pushed_.fetch_add(1, std::memory_order_acq_rel);
  }

  // The oldest node, or nullptr (empty, or its producer is mid-push).
  // Consumer only.
  LaxDirtyNode* pop() noexcept {
    LaxDirtyNode* tail = tail_;
    LaxDirtyNode* next = tail->next_dirty.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = tail = next;
      next = next->next_dirty.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;  // mid-push
    push_stub();
    next = tail->next_dirty.load(std::memory_order_acquire);
    if (next == nullptr) return nullptr;  // another producer is mid-push
    tail_ = next;
    return tail;
  }

  // Pushes made so far (acquire).
  std::uint64_t pushed() const noexcept { return pushed_.load(std::memory_order_acquire); }

  // pushed() as a read-modify-write: unlike a load it is ordered after a
  // store the caller made before it, against producers' pushes (see
  // LaxFlusher's sleep protocol).
  std::uint64_t pushed_fenced() noexcept { return pushed_.fetch_add(0, std::memory_order_acq_rel); }

 private:
  // Re-queues the stub so the last real node can be handed out; not counted.
  void push_stub() noexcept {
    stub_.next_dirty.store(nullptr, std::memory_order_relaxed);
    LaxDirtyNode* previous = head_.exchange(&stub_, std::memory_order_acq_rel);
    previous->next_dirty.store(&stub_, std::memory_order_release);
  }

  alignas(64) std::atomic<LaxDirtyNode*> head_;  // the newest node
  alignas(64) std::atomic<std::uint64_t> pushed_{0};
  alignas(64) LaxDirtyNode* tail_;  // the oldest node; consumer only
  LaxDirtyNode stub_;
};

}  // namespace distkit::detail
