#include "counters/lax_flusher.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>
#include <limits>
#include <random>
#include <thread>

#include "core/log.hpp"
#include "counters/lax_epoch.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace distkit::detail {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Waits for `start(callback)` until `deadline`; false when it did not
// report by then (it may still do so later, harmlessly).
template <class Start>
bool wait_until(Start&& start, std::chrono::steady_clock::time_point deadline) {
  auto reported = std::make_shared<std::promise<void>>();
  auto future = reported->get_future();
  start(OutcomeCallback<Done>([reported](Outcome<Done>) { reported->set_value(); }));
  return future.wait_until(deadline) == std::future_status::ready;
}

Error overflow_error(const LaxSlot& slot) {
  return Error(Errc::overflow, "the local value of key '" + printable(*slot.key) +
                                   "' would leave the int64 range; nothing was buffered");
}

}  // namespace

LaxFlusher::LaxFlusher(std::shared_ptr<Connection> connection,
                       std::chrono::milliseconds allowed_lag,
                       std::unique_ptr<LaxFlushLayout> layout)
    : connection_(std::move(connection)),
      allowed_lag_(allowed_lag),
      layout_(std::move(layout)),
      flush_timer_(connection_->executor()),
      reclaim_timer_(connection_->executor()),
      retry_timer_(connection_->executor()),
      lane_timer_(connection_->executor()),
      backoff_(std::chrono::milliseconds(10),
               std::max(std::chrono::milliseconds(20), connection_->command_timeout() / 2),
               std::random_device{}()),
      lane_([this] { return blocked_error(); }),
      last_seq_(layout_->shards(), 0),
      staged_(layout_->shards()) {}

LaxFlusher::~LaxFlusher() {
  if (slots_.size() < reclaim_batch) return;
  std::thread([doomed = std::move(slots_)] {}).detach();
}

// ---- Buffer ----

std::int64_t LaxFlusher::saturate(int128 value) {
  return static_cast<std::int64_t>(std::clamp<int128>(
      value, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()));
}

LaxSlot* LaxFlusher::warm(std::string_view key) const {
  LaxSlot* slot = slots_.find(key);
  if (slot && slot->state.load(std::memory_order_acquire) == LaxSlot::ready) return slot;
  return nullptr;
}

std::int64_t LaxFlusher::add(LaxSlot& slot, std::int64_t step) {
  std::int64_t current = slot.view.load(std::memory_order_relaxed);
  std::int64_t next = 0;
  do {
    if (__builtin_add_overflow(current, step, &next)) throw overflow_error(slot);
  } while (!slot.view.compare_exchange_weak(current, next, std::memory_order_acq_rel,
                                            std::memory_order_relaxed));
  if (step != 0) mark_dirty(slot);
  return next;
}

UpdateResult LaxFlusher::add_if(LaxSlot& slot, CounterComparator cmp, int128 delta) {
  std::int64_t current = slot.view.load(std::memory_order_relaxed);
  std::int64_t next = 0;
  do {
    if (!cmp.matches(current)) return {current, current, false};
    const int128 sum = current + delta;
    if (!fits_int64(sum)) throw overflow_error(slot);
    next = static_cast<std::int64_t>(sum);
  } while (!slot.view.compare_exchange_weak(current, next, std::memory_order_acq_rel,
                                            std::memory_order_relaxed));
  if (delta != 0) mark_dirty(slot);
  return {next, current, true};
}

void LaxFlusher::take_back(LaxSlot& slot, int128 delta) {
  if (delta == 0) return;
  shift_view(slot, -delta);
  mark_dirty(slot);
}

void LaxFlusher::shift_view(LaxSlot& slot, int128 delta) {
  if (delta == 0) return;
  std::int64_t current = slot.view.load(std::memory_order_relaxed);
  while (!slot.view.compare_exchange_weak(current, saturate(current + delta),
                                          std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
}

// Every caller changed `view` with an acq_rel read-modify-write just before.
// The flusher clears `dirty` and then reads `view` with an acq_rel
// read-modify-write too (take_chunk). Either its read comes later in view's
// modification order and sees this change, or it comes earlier, and then our
// RMW read from it (or from a later one), so its clearing of `dirty`
// happens-before the load below, which then sees false and queues the key
// again. So no change is ever left behind unqueued, on any CPU.
void LaxFlusher::mark_dirty(LaxSlot& slot) {
  if (slot.dirty.load(std::memory_order_relaxed) ||
      slot.dirty.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  dirty_.push(&slot);
  // The same argument with sleeping_ and the queue's push counter (see
  // after_flush): a sleeping flusher is woken exactly once.
  if (sleeping_.load(std::memory_order_relaxed) &&
      sleeping_.exchange(false, std::memory_order_acq_rel)) {
    wake();
  }
}

void LaxFlusher::wake() {
  asio::post(executor(), [self = shared_from_this()] { self->arm_flush_timer(); });
}

// ---- Lane ----

void LaxFlusher::enqueue(UniqueFunction<void()> start, UniqueFunction<void(error_code)> expire,
                         clock::time_point deadline) {
  lane_.enqueue({std::move(start), std::move(expire), deadline});
  arm_lane_timer();
}

void LaxFlusher::job_finished() {
  lane_.finished();
}

error_code LaxFlusher::blocked_error() const {
  return lane_.blocked() && stats_.last_error ? stats_.last_error : make_error_code(Errc::timeout);
}

// Fails jobs that waited past their deadline behind a busy or blocked lane;
// follows the earliest deadline.
void LaxFlusher::arm_lane_timer() {
  const auto earliest = lane_.next_deadline();
  if (!earliest || (lane_timer_armed_ && lane_deadline_ <= *earliest)) return;
  lane_timer_armed_ = true;
  lane_deadline_ = *earliest;
  lane_timer_.expires_at(*earliest);  // cancels a later wait, if any
  lane_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->stopped_) return;  // re-armed earlier, or shut down
    self->lane_timer_armed_ = false;
    self->lane_.expire(clock::now());
    self->arm_lane_timer();
  });
}

int128 LaxFlusher::pending_of(const LaxSlot& slot) const {
  int128 pending = int128{slot.view.load(std::memory_order_acquire)} -
                   slot.base.load(std::memory_order_relaxed) - slot.unacked;
  if (!held_.empty()) {
    if (auto it = held_.find(&slot); it != held_.end()) pending -= it->second;
  }
  return pending;
}

void LaxFlusher::hold(LaxSlot& slot, int128 delta) {
  if (delta != 0) held_[&slot] += delta;
}

void LaxFlusher::unhold(LaxSlot& slot, int128 delta) {
  if (delta == 0) return;
  auto it = held_.find(&slot);
  if ((it->second -= delta) == 0) held_.erase(it);
}

// ---- Flush scheduling ----

void LaxFlusher::flush(clock::duration bound, OutcomeCallback<Done> done) {
  asio::post(executor(), [self = shared_from_this(), bound, done = std::move(done)]() mutable {
    auto shared_done = std::make_shared<OutcomeCallback<Done>>(std::move(done));
    self->enqueue([self, shared_done] { self->start_flush(std::move(*shared_done)); },
                  [shared_done](error_code error) {
                    (*shared_done)({error, {}, {}});
                  },
                  clock::now() + bound);
  });
}

void LaxFlusher::arm_flush_timer() {
  if (stopped_ || flush_timer_armed_ || flush_queued_) return;
  flush_timer_armed_ = true;
  flush_timer_.expires_after(allowed_lag_);
  flush_timer_.async_wait([self = shared_from_this()](error_code ec) {
    self->flush_timer_armed_ = false;
    if (ec || self->stopped_) return;
    self->flush_queued_ = true;
    self->enqueue(
        [self] {
          self->flush_queued_ = false;
          self->start_flush({});
        },
        [](error_code) {}, clock::time_point::max());
  });
}

// A flush ended: the next one comes allowed_lag later if anything is
// pending; else the flusher sleeps until mark_dirty() wakes it.
void LaxFlusher::after_flush() {
  if (stopped_) return;
  if (dirty_.pushed() != popped_) return arm_flush_timer();
  sleeping_.store(true, std::memory_order_relaxed);
  // A read-modify-write, so that it is ordered after the store above
  // against the pushes (see mark_dirty).
  if (dirty_.pushed_fenced() != popped_ && sleeping_.exchange(false, std::memory_order_acq_rel)) {
    arm_flush_timer();
  }
}

// ---- Flushing ----

void LaxFlusher::start_flush(OutcomeCallback<Done> done) {
  flush_running_ = true;
  round_failed_ = false;
  flush_done_ = std::move(done);
  to_take_ = dirty_.pushed() - popped_;
  pump();
}

// Sends chunks of the snapshot while the window has room.
void LaxFlusher::pump() {
  pump_posted_ = false;
  while (!stopped_ && !round_failed_ && in_flight_ < window &&
         (to_take_ > 0 || staged_deltas_ > 0)) {
    bool stalled = false;
    Chunk chunk = take_chunk(stalled);
    if (!chunk.deltas.empty()) {
      chunk.seq = ++last_seq_[chunk.shard];
      unsettled_.push_back(std::move(chunk));
      send(unsettled_.back());
      continue;
    }
    if (stalled && in_flight_ == 0) {
      // A producer is between its two steps of a push: come back shortly.
      pump_posted_ = true;
      asio::post(executor(), [self = shared_from_this()] { self->pump(); });
      return;
    }
    if (stalled) break;  // the next reply pumps again
  }
  finish_if_settled();
}

// Takes keys of the snapshot with a non-zero delta into their shard's
// staging until one shard has chunk_keys of them, and returns that shard's
// chunk; or, once the snapshot is all taken or `stalled` (the queue could
// not hand out a key the snapshot counts yet), the first partial one.
// Without deltas when none is ready.
LaxFlusher::Chunk LaxFlusher::take_chunk(bool& stalled) {
  std::vector<LaxSlot*> beyond_int64;  // the rest of their delta goes in a later flush
  std::size_t ready = staged_.size();
  while (ready == staged_.size() && to_take_ > 0) {
    LaxDirtyNode* node = dirty_.pop();
    if (node == nullptr) {
      stalled = true;
      break;
    }
    --to_take_;
    ++popped_;
    auto& slot = static_cast<LaxSlot&>(*node);
    // Cleared before reading the delta; see mark_dirty for why the read is
    // a read-modify-write.
    slot.dirty.store(false, std::memory_order_relaxed);
    slot.view.fetch_add(0, std::memory_order_acq_rel);
    touch(slot);
    const int128 pending = pending_of(slot);
    if (pending == 0) continue;
    const std::int64_t delta = saturate(pending);
    if (delta != pending) beyond_int64.push_back(&slot);
    slot.unacked += delta;
    const std::size_t shard = layout_->shard_of(slot);
    staged_[shard].push_back({&slot, delta});
    ++staged_deltas_;
    if (staged_[shard].size() == chunk_keys) ready = shard;
  }
  for (LaxSlot* slot : beyond_int64) mark_dirty(*slot);
  if (ready == staged_.size() && (stalled || to_take_ == 0)) {
    ready = static_cast<std::size_t>(
        std::find_if(staged_.begin(), staged_.end(), [](const auto& s) { return !s.empty(); }) -
        staged_.begin());
  }
  Chunk chunk;
  if (ready == staged_.size()) return chunk;
  chunk.shard = ready;
  chunk.deltas.swap(staged_[ready]);
  staged_deltas_ -= chunk.deltas.size();
  return chunk;
}

// A flush ended early: the deltas staged for chunks go back to the queue.
void LaxFlusher::unstage() {
  for (std::vector<LaxDelta>& deltas : staged_) {
    for (auto [slot, delta] : deltas) {
      slot->unacked -= delta;
      mark_dirty(*slot);
    }
    deltas.clear();
  }
  staged_deltas_ = 0;
}

// Whether every earlier chunk of its shard is settled: the script may then
// apply it whatever the record says ("oldest").
bool LaxFlusher::first_of_shard(const Chunk& chunk) const {
  for (const Chunk& other : unsettled_) {
    if (&other == &chunk) return true;
    if (other.shard == chunk.shard) return false;
  }
  return true;
}

void LaxFlusher::send(Chunk& chunk) {
  ++in_flight_;
  execute(layout_->chunk_request(chunk.shard, chunk.seq, first_of_shard(chunk), chunk.deltas),
          [self = shared_from_this(), shard = chunk.shard, seq = chunk.seq](
              error_code error, Reply reply) { self->on_reply(shard, seq, error, reply); });
}

void LaxFlusher::on_reply(std::size_t shard, std::uint64_t seq, error_code error,
                          const Reply& reply) {
  --in_flight_;
  auto chunk = std::find_if(unsettled_.begin(), unsettled_.end(), [shard, seq](const Chunk& c) {
    return c.shard == shard && c.seq == seq;
  });
  std::string message;
  LaxFlushLayout::ChunkReply decoded;
  if (!error) {
    try {
      decoded = layout_->chunk_reply(shard, reply, chunk->deltas.size());
    } catch (const Error& e) {
      error = e.code();
      message = e.what();
    }
  }
  if (error) {
    fail(error, message.empty() ? Error(error).what() : message);
  } else if (decoded.outcome == LaxFlushLayout::Outcome::gap) {
    round_failed_ = true;  // an earlier chunk failed; this one is resent after it
  } else {
    settle(*chunk, decoded);
    unsettled_.erase(chunk);
    ++stats_.flushes;
  }
  if (flush_running_) return pump();
  finish_if_settled();
}

void LaxFlusher::fail(error_code error, std::string message) {
  round_failed_ = true;
  ++stats_.failed_flushes;
  stats_.last_error = error;
  stats_.last_error_message = std::move(message);
  // The client was closed: nothing can be delivered any more.
  if (error == Errc::closed) stopped_ = true;
}

// Applies an acknowledged chunk: each applied delta moves from unacked into
// base (also for a duplicate, which Redis applied on an earlier attempt); a
// set-aside one leaves the view and is reported.
void LaxFlusher::settle(const Chunk& chunk, const LaxFlushLayout::ChunkReply& reply) {
  std::vector<bool> aside(chunk.deltas.size(), false);
  for (std::size_t i : reply.set_aside) aside.at(i) = true;
  for (std::size_t i = 0; i < chunk.deltas.size(); ++i) {
    auto [slot, delta] = chunk.deltas[i];
    slot->unacked -= delta;
    touch(*slot);
    if (!aside[i]) {
      slot->base.store(saturate(int128{slot->base.load(std::memory_order_relaxed)} + delta),
                       std::memory_order_relaxed);
      continue;
    }
    shift_view(*slot, -int128{delta});
    ++stats_.set_aside;
    log(LogLevel::error, "LaxCounter " + layout_->name() + ": Redis can never take a delta of " +
                             std::to_string(delta) + " for key '" + printable(*slot->key) +
                             "' (the field holds a non-integer, or the sum leaves int64); it "
                             "was set aside in " +
                             layout_->set_aside_location(chunk.shard));
  }
}

// Ends the flush (or the retry round) once nothing is in flight.
void LaxFlusher::finish_if_settled() {
  if (in_flight_ > 0 || pump_posted_) return;
  const bool settled = unsettled_.empty() && !round_failed_ && to_take_ == 0 && staged_deltas_ == 0;
  if (flush_running_) {
    flush_running_ = false;
    auto done = std::move(flush_done_);
    if (settled) {
      if (done) done({});
      lane_.finished();
      return after_flush();
    }
    // The keys of the snapshot not taken yet stay queued for a later flush.
    to_take_ = 0;
    unstage();
    const error_code error =
        stopped_ && !stats_.last_error ? make_error_code(Errc::closed) : stats_.last_error;
    if (!stopped_) {
      log(LogLevel::warning, "LaxCounter " + layout_->name() + ": a flush of " +
                                 std::to_string(unsettled_.size()) +
                                 " chunk(s) failed, retrying: " + stats_.last_error_message);
    }
    lane_.block();
    if (done) done({error, stats_.last_error_message, {}});
    lane_.finished();
    return schedule_retry();
  }
  if (!retrying_) return;
  if (settled) {
    retrying_ = false;
    backoff_.reset();
    lane_.unblock();
    return after_flush();
  }
  schedule_retry();
}

void LaxFlusher::schedule_retry() {
  retrying_ = true;
  if (stopped_) return;
  retry_timer_.expires_after(backoff_.next());
  retry_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->stopped_) return;
    self->round_failed_ = false;
    for (Chunk& chunk : self->unsettled_) self->send(chunk);
    self->finish_if_settled();
  });
}

// ---- Reclaim of idle keys ----

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

// ---- Stats and shutdown ----

LaxCounterStats LaxFlusher::stats() {
  std::promise<LaxCounterStats> counters;
  auto result = counters.get_future();
  asio::post(executor(),
             [self = shared_from_this(), &counters] { counters.set_value(self->stats_); });
  LaxCounterStats stats = result.get();
  const Pending unacknowledged = pending();
  stats.pending_keys = unacknowledged.keys;
  stats.pending_total = saturate(unacknowledged.total);
  return stats;
}

LaxFlusher::Pending LaxFlusher::pending(clock::time_point deadline) const {
  Pending result;
  std::size_t visited = 0;
  result.complete = slots_.for_each([&](LaxSlot& slot) {
    const int128 delta = int128{slot.view.load(std::memory_order_acquire)} -
                         slot.base.load(std::memory_order_relaxed);
    if (delta != 0) {
      result.total += delta;
      ++result.keys;
    }
    return ++visited % 1024 != 0 || clock::now() < deadline;
  });
  return result;
}

void LaxFlusher::execute(Request request, ReplyCallback done) {
  requests_in_flight_.fetch_add(1, std::memory_order_relaxed);
  connection_->execute(std::move(request), [self = shared_from_this(), done = std::move(done)](
                                               error_code error, Reply reply) mutable {
    done(error, std::move(reply));
    self->requests_in_flight_.fetch_sub(1, std::memory_order_release);
  });
}

void LaxFlusher::release(std::shared_ptr<void> owner) {
  asio::post(executor(), [self = shared_from_this(), owner = std::move(owner)]() mutable {
    release_step(std::move(self), std::move(owner));
  });
}

// Strand only. Freeing a million slots takes about a second: done in steps
// so that other counters' replies keep flowing, and only once no reply can
// touch a slot any more.
void LaxFlusher::release_step(std::shared_ptr<LaxFlusher> self, std::shared_ptr<void> owner) {
  constexpr std::size_t slots_per_step = 4096;
  if (self->requests_in_flight_.load(std::memory_order_acquire) != 0) {
    auto timer =
        std::make_shared<asio::steady_timer>(self->executor(), std::chrono::milliseconds(5));
    timer->async_wait([self, owner = std::move(owner), timer](error_code) mutable {
      release_step(std::move(self), std::move(owner));
    });
    return;
  }
  if (self->slots_.erase_some(slots_per_step)) return;  // all freed
  auto executor = self->executor();
  asio::post(executor, [self = std::move(self), owner = std::move(owner)]() mutable {
    release_step(std::move(self), std::move(owner));
  });
}

void LaxFlusher::shut_down() {
  std::promise<void> stopped;
  auto wait = stopped.get_future();
  asio::post(executor(), [self = shared_from_this(), &stopped] {
    self->stopped_ = true;
    self->flush_timer_.cancel();
    self->reclaim_timer_.cancel();
    self->retry_timer_.cancel();
    self->lane_timer_.cancel();
    self->lane_.close(make_error_code(Errc::closed));
    stopped.set_value();
  });
  wait.wait();
}

// The flush gets what is left of `bound` after a reserve for the report (a
// walk of the slots, about 1 us each when they are out of cache) and is
// abandoned when that runs out (chunks in flight still settle); the walk
// stops at the bound too. A tenth of `bound` is left for what follows (the
// shutdown's strand round trip, the log, the owner's own end).
void LaxFlusher::drain(clock::duration bound, const std::string& what) {
  const auto start = clock::now();
  bound -= bound / 10;
  if (!connection_->closed()) {
    const auto reserve =
        std::min<clock::duration>(bound / 2, std::chrono::microseconds(1) * slots_.size());
    const auto deadline = start + bound - reserve;
    wait_until([&](OutcomeCallback<Done> done) { flush(deadline - clock::now(), std::move(done)); },
               deadline);
  }
  shut_down();
  const Pending undelivered = pending(start + bound);
  if (undelivered.keys != 0) {
    log(LogLevel::error, what + " destroyed with " + (undelivered.complete ? "" : "at least ") +
                             to_decimal(undelivered.total) + " undelivered over " +
                             std::to_string(undelivered.keys) + " keys");
  }
}

}  // namespace distkit::detail
