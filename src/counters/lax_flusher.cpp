#include "counters/lax_flusher.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>
#include <limits>
#include <random>
#include <thread>

#include "core/log.hpp"

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
