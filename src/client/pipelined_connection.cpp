// PipelinedConnection's request path: submission from any thread, one
// write at a time of everything queued, replies matched to their requests,
// refused requests retried in order, and deadlines.
#include "client/pipelined_connection.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// A connection with requests in flight and silent for this many command
// timeouts is considered dead (e.g. the peer vanished without a RST) and is
// replaced. Shorter silences only time out the requests, which keeps a
// merely slow or paused Redis connected.
constexpr int silent_timeouts_before_reconnect = 3;
// A write buffer grown past this by a large request is released afterwards
// instead of keeping its peak capacity for the life of the connection.
constexpr std::size_t kept_write_capacity = 1 << 20;
// Replies to script calls in one read from which half of the read's
// callbacks run before the requests they made are written (see on_read).
constexpr std::size_t early_write_scripts = 16;

// Keeps an emptied vector's capacity for the next use, unless a burst grew
// it past what steady traffic needs.
template <class T>
void recycle(std::vector<T> used, std::vector<T>& spare) {
  constexpr std::size_t kept_entries = 1024;
  used.clear();
  if (used.capacity() <= kept_entries) spare = std::move(used);
}

}  // namespace

void PipelinedConnection::submit(Request request, ReplyCallback done, Submission how) {
  std::lock_guard lock(inbox_mutex_);
  enqueue(std::move(request), std::move(done), how);
}

bool PipelinedConnection::submit_on_route(Request& request, ReplyCallback& done, Submission how,
                                          Route route) {
  std::lock_guard lock(inbox_mutex_);
  if (route.word->load(std::memory_order_acquire) != route.expected) return false;
  enqueue(std::move(request), std::move(done), how);
  return true;
}

void PipelinedConnection::fence(std::int32_t slot, ReplyCallback passed) {
  std::lock_guard lock(inbox_mutex_);
  inbox_.push_back({{}, std::move(passed), clock::time_point::max(), 0, slot, false, true});
  schedule_drain();
}

void PipelinedConnection::enqueue(Request&& request, ReplyCallback&& done, const Submission& how) {
  inbox_.push_back(
      {std::move(request), std::move(done), how.deadline, how.redirects, how.slot, how.asking});
  schedule_drain();
}

void PipelinedConnection::schedule_drain() {
  if (drain_scheduled_) return;
  drain_scheduled_ = true;
  asio::post(strand_, [self = shared_from_this()] { self->drain_inbox(); });
}

void PipelinedConnection::run(std::vector<RequestQueue::Finished>& finished) {
  for (auto& entry : finished) entry.run();
  finished.clear();
}

// Hands redirected requests back and runs the callbacks of answered
// requests [first, last). Returns false when a callback closed the
// connection or triggered a reconnect. Redirected requests are sent on
// before any callback runs, so that a fence that passed in the same read
// finds them already on their way.
bool PipelinedConnection::settle(std::vector<RequestQueue::Finished>& finished, std::size_t first,
                                 std::size_t last,
                                 std::vector<RequestQueue::Redirected>& redirected,
                                 std::uint64_t generation) {
  for (auto& entry : redirected) on_redirect_(std::move(entry));
  redirected.clear();
  for (std::size_t i = first; i < last; ++i) finished[i].run();
  return generation == generation_ && state_ != State::closed;
}

// Moves everything submitted since the last drain into the queue in one
// go: this is where concurrent callers get coalesced into one write.
void PipelinedConnection::drain_inbox() {
  // The inbox and this batch trade their vectors, so both keep their
  // capacity from one drain to the next.
  std::vector<Submitted> batch = std::exchange(spare_inbox_, {});
  {
    std::lock_guard lock(inbox_mutex_);
    batch.swap(inbox_);
    drain_scheduled_ = false;
  }
  if (state_ == State::closed) {
    for (auto& entry : batch) entry.done(make_error_code(Errc::closed), {});
    return;
  }
  std::optional<clock::time_point> earliest;
  for (auto& entry : batch) {
    if (entry.fence) {
      queue_.push_fence(entry.slot, std::move(entry.done));
      continue;
    }
    if (!earliest || entry.deadline < *earliest) earliest = entry.deadline;
    // A script's first use runs as EVAL, which also loads it: a later
    // EVALSHA in the same pipeline then finds it, so a new script never
    // meets NOSCRIPT (whose cure must hold back everything behind it).
    if (remember_script(entry.request.script())) entry.request.switch_to_eval();
    queue_.push(std::move(entry.request), std::move(entry.done), entry.deadline, entry.redirects,
                entry.asking, entry.slot);
  }
  recycle(std::move(batch), spare_inbox_);
  std::vector<RequestQueue::Finished> passed;
  queue_.settle_fences(passed);
  run(passed);
  if (earliest) arm_request_timer(*earliest);
  write_pending();
}

// Scripts used once are loaded by every later handshake, so that a
// restarted or new server never answers NOSCRIPT. Returns true for a script
// not seen before.
bool PipelinedConnection::remember_script(const Script* script) {
  if (script == nullptr ||
      std::find(known_scripts_.begin(), known_scripts_.end(), script) != known_scripts_.end()) {
    return false;
  }
  known_scripts_.push_back(script);
  return true;
}

// Writes every queued request in one go. Only one write is outstanding at a
// time; whatever is queued meanwhile goes out together in the next one.
void PipelinedConnection::write_pending() {
  if (writing_ || state_ != State::ready || queue_.queued() == 0) return;
  // Silence counts from the moment a reply is due, not from an idle spell.
  if (queue_.in_flight() == 0) last_read_ = clock::now();
  write_buffer_.clear();
  if (queue_.take_writable(write_buffer_) == 0) return;
  write_bytes(write_buffer_);
}

void PipelinedConnection::write_bytes(std::string_view bytes) {
  writing_ = true;
  transport_->async_write(
      bytes, [self = shared_from_this(), generation = generation_](error_code ec, std::size_t) {
        if (generation != self->generation_) return;
        self->writing_ = false;
        if (ec) return self->connection_lost("write failed: " + ec.message());
        if (self->write_buffer_.capacity() > kept_write_capacity)
          std::string().swap(self->write_buffer_);
        self->write_pending();
      });
}

void PipelinedConnection::start_read() {
  transport_->async_read_some(read_buffer_, [self = shared_from_this(), generation = generation_](
                                                error_code ec, std::size_t size) {
    if (generation != self->generation_) return;
    if (ec) return self->connection_lost("read failed: " + ec.message());
    self->on_read(size);
  });
}

void PipelinedConnection::on_read(std::size_t size) {
  last_read_ = clock::now();
  const auto generation = generation_;
  std::vector<RequestQueue::Finished> finished = std::exchange(spare_finished_, {});
  std::vector<RequestQueue::Redirected> redirected;
  auto* const hand_back = on_redirect_ ? &redirected : nullptr;
  const std::size_t scripts_before = queue_.scripts_answered();
  try {
    reader_->feed({read_buffer_.data(), size});
    while (auto reply = reader_->next()) {
      if (state_ == State::handshaking) {
        on_handshake_reply(*reply);
        if (generation != generation_) return;  // the handshake gave up
        continue;
      }
      if (auto refusal = queue_.on_reply(std::move(*reply), finished, hand_back)) {
        note_refusal(*refusal);
      }
    }
  } catch (const Error& e) {
    settle(finished, 0, finished.size(), redirected, generation);
    return connection_lost(e.what());
  }
  // Scripts keep Redis busy for microseconds each. When this read answered
  // many, the requests made by the first half of its callbacks are written
  // before the second half runs, so that Redis works on them meanwhile
  // instead of waiting for the whole read to be handled. Plain commands
  // cost Redis less than the extra write and wakeup: their replies are all
  // handled first, and what they ask for goes out in one write.
  std::size_t handled = 0;
  if (!writing_ && queue_.scripts_answered() - scripts_before >= early_write_scripts) {
    handled = finished.size() / 2;
    if (settle(finished, 0, handled, redirected, generation)) drain_inbox();
  }
  if (!settle(finished, handled, finished.size(), redirected, generation)) return;
  recycle(std::move(finished), spare_finished_);
  if (state_ == State::ready) cure_refusal();
  if (generation != generation_) return;
  write_pending();
  start_read();
}

void PipelinedConnection::note_refusal(Refusal refusal) {
  if (!pending_refusal_ || static_cast<int>(refusal) > static_cast<int>(*pending_refusal_)) {
    pending_refusal_ = refusal;
  }
}

// Once every request written before a refusal is answered, does what cures
// it and sends the refused requests again, in order.
void PipelinedConnection::cure_refusal() {
  if (!pending_refusal_ || !queue_.refused_ready()) {
    if (queue_.refused() == 0) pending_refusal_.reset();
    return;
  }
  const Refusal refusal = *std::exchange(pending_refusal_, std::nullopt);
  switch (refusal) {
    case Refusal::noscript:
      queue_.resume_refused();
      return;
    case Refusal::passing:
      return after_retry_delay([this] {
        queue_.resume_refused();
        write_pending();
      });
    case Refusal::relocate:
      return connection_lost("Redis at " + address_.describe() +
                             " refused a write as a replica (READONLY or MASTERDOWN)");
  }
}

void PipelinedConnection::arm_request_timer(std::optional<clock::time_point> earliest_new) {
  // Submitted deadlines mostly come in order: an armed timer is only moved
  // for one that needs it sooner, without walking the queue.
  if (timer_deadline_ && (!earliest_new || *earliest_new >= *timer_deadline_)) return;
  auto deadline = queue_.next_deadline();
  // Requests in flight whose callers gave up still hold their place, and
  // the fences behind them: a connection that stays silent is given up even
  // when nobody waits for a reply any more.
  if (state_ == State::ready && queue_.in_flight() > 0) {
    const auto given_up = last_read_ +
                          silent_timeouts_before_reconnect * settings_.command_timeout +
                          std::chrono::milliseconds(1);
    if (!deadline || given_up < *deadline) deadline = given_up;
  }
  if (!deadline || (timer_deadline_ && *deadline >= *timer_deadline_)) return;
  timer_deadline_ = deadline;
  // Moving the expiry cancels the wait for the old one.
  request_timer_.expires_at(*deadline);
  request_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec) return;  // moved, or shut down
    self->timer_deadline_.reset();
    if (self->state_ == State::closed) return;
    self->on_request_timer();
  });
}

void PipelinedConnection::on_request_timer() {
  const auto now = clock::now();
  std::vector<RequestQueue::Finished> finished;
  const bool connected = state_ == State::ready;
  queue_.expire(now, make_error_code(connected ? Errc::timeout : Errc::connection), finished);
  const bool silent =
      now - last_read_ > silent_timeouts_before_reconnect * settings_.command_timeout;
  run(finished);
  if (connected && state_ == State::ready && queue_.in_flight() > 0 && silent) {
    connection_lost(
        "no reply for " +
        std::to_string(silent_timeouts_before_reconnect * settings_.command_timeout.count()) +
        " ms");
  }
  if (queue_.refused() == 0) pending_refusal_.reset();  // all expired unsent
  write_pending();  // expired refused requests may have been holding writes
  arm_request_timer();
}

}  // namespace distkit::detail
