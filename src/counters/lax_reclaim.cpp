// LaxFlusher's reclaim of idle keys: a key unused for the configured idle
// period is marked retiring, unlinked once no reader can still be in it,
// and freed once no reader can still hold the unlinked slot (lax_epoch).
#include <algorithm>

#include "counters/lax_epoch.hpp"
#include "counters/lax_flusher.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace distkit::detail {

using boost::system::error_code;

void LaxFlusher::touch(LaxSlot& slot) {
  if (reclaim_idle_.count() == 0) return;
  if (slot.idle_queued) {
    slot.touched_again = true;
    return;
  }
  slot.idle_queued = true;
  idle_.emplace_back(&slot, lax_now_ns());
  if (!reclaim_armed_ && !reclaim_queued_) arm_reclaim_timer(reclaim_idle_);
}

void LaxFlusher::arm_reclaim_timer(clock::duration after) {
  if (stopped_) return;
  reclaim_armed_ = true;
  reclaim_timer_.expires_after(after);
  reclaim_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec) return;  // re-armed (the new wait keeps reclaim_armed_), or shut down
    self->reclaim_armed_ = false;
    if (self->stopped_) return;
    self->reclaim_queued_ = true;
    self->enqueue([self] { self->reclaim_pass(); }, [](error_code) {}, clock::time_point::max());
  });
}

// A lane job, so no override, refresh or clear (which keep slots without
// pins) is in flight meanwhile. Each step is bounded by reclaim_batch.
void LaxFlusher::reclaim_pass() {
  reclaim_queued_ = false;
  const std::int64_t now = lax_now_ns();
  if (!limbo_.empty() && lax_epoch_passed(limbo_epoch_)) free_limbo();
  if (!retiring_.empty() && lax_epoch_passed(retiring_epoch_)) unlink_retiring();
  if (retiring_.empty()) retire_idle(now);
  // The marks and unlinks above become visible to every reader with the
  // epoch's end; their grace periods are checked by the next pass.
  if (!retiring_.empty() || !limbo_.empty()) {
    const std::uint64_t ended = lax_advance_epoch();
    if (!retiring_.empty()) retiring_epoch_ = ended;
    if (!limbo_.empty()) limbo_epoch_ = std::max(limbo_epoch_, ended);
    arm_reclaim_timer(reclaim_step_pause);
  } else if (!idle_.empty()) {
    const std::int64_t idle_ns = std::chrono::nanoseconds(reclaim_idle_).count();
    const std::int64_t due = idle_.front().second + idle_ns;
    arm_reclaim_timer(std::chrono::nanoseconds(std::max<std::int64_t>(due - now, 0)) +
                      reclaim_step_pause);
  }
  job_finished();
}

// Nothing is pending, in flight, queued or pinned for the slot (strand, in
// the lane).
bool LaxFlusher::settled(const LaxSlot& slot) const {
  return slot.pins.load(std::memory_order_acquire) == 0 && !slot.idle_queued &&
         !slot.dirty.load(std::memory_order_acquire) && slot.unacked == 0 &&
         slot.view.load(std::memory_order_acquire) == slot.base.load(std::memory_order_relaxed) &&
         (held_.empty() || !held_.contains(&slot));
}

// Marks up to reclaim_batch idle slots retiring. A cold slot (its first
// read failed) has nothing a reader could use: it is unlinked at once.
void LaxFlusher::retire_idle(std::int64_t now) {
  const std::int64_t idle_ns = std::chrono::nanoseconds(reclaim_idle_).count();
  for (std::size_t handled = 0; handled < reclaim_batch && !idle_.empty(); ++handled) {
    auto [slot, queued_at] = idle_.front();
    if (queued_at + idle_ns > now) break;
    idle_.pop_front();
    slot->idle_queued = false;
    if (slot->touched_again) {
      // Busy since it was queued: due an idle period from now, which is at
      // most one idle period later than from its last use.
      slot->touched_again = false;
      slot->idle_queued = true;
      idle_.emplace_back(slot, now);
      continue;
    }
    std::uint8_t state = LaxSlot::ready;
    if (settled(*slot) &&
        slot->state.compare_exchange_strong(state, LaxSlot::retiring, std::memory_order_acq_rel)) {
      retiring_.push_back(slot);
      continue;
    }
    if (state == LaxSlot::cold) {
      LaxSlotMap::Node node = slots_.unlink_if_idle(*slot, [](const LaxSlot& s) {
        return s.state.load(std::memory_order_acquire) == LaxSlot::cold;
      });
      if (!node.empty()) {
        limbo_.push_back(std::move(node));
        continue;
      }
    }
    touch(*slot);  // in use: look again an idle period later
  }
}

// Every section that could have missed a retiring mark has ended: a slot
// still retiring and settled can take no increment any more.
void LaxFlusher::unlink_retiring() {
  for (LaxSlot* slot : retiring_) {
    LaxSlotMap::Node node = slots_.unlink_if_idle(*slot, [this](const LaxSlot& s) {
      return s.state.load(std::memory_order_acquire) == LaxSlot::retiring && settled(s);
    });
    if (!node.empty()) {
      limbo_.push_back(std::move(node));
      continue;
    }
    std::uint8_t state = LaxSlot::retiring;
    slot->state.compare_exchange_strong(state, LaxSlot::ready, std::memory_order_acq_rel);
    touch(*slot);
  }
  retiring_.clear();
}

// Every section that could still hold an unlinked slot has ended.
void LaxFlusher::free_limbo() {
  freed_since_trim_ += limbo_.size();
  limbo_.clear();
  limbo_.shrink_to_fit();
  if (idle_.empty()) idle_.shrink_to_fit();
#ifdef __GLIBC__
  // glibc keeps freed small blocks in its heap; hand the free pages back.
  if (freed_since_trim_ >= reclaim_batch || idle_.empty()) {
    malloc_trim(0);
    freed_since_trim_ = 0;
  }
#endif
}

}  // namespace distkit::detail
