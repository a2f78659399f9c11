// LaxFlusher's flush rounds: a snapshot of the dirty keys cut into chunks
// per shard, sent with a bounded window, settled by each chunk's reply and
// retried with backoff when Redis refuses or cannot be reached.
#include <algorithm>
#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "counters/lax_flusher.hpp"

namespace distkit::detail {

namespace asio = boost::asio;
using boost::system::error_code;

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

}  // namespace distkit::detail
