// The connection's request bookkeeping, without any I/O (sans-IO).
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/refusal.hpp"
#include "client/reply.hpp"
#include "client/request.hpp"
#include "client/unique_function.hpp"

namespace distkit::detail {

// Receives the outcome of one request: an error_code (Errc::timeout,
// Errc::connection, Errc::closed) or the reply, which may be a Redis error.
// Sized to hold a counter call's reply parser and completion inline.
using ReplyCallback = UniqueFunction<void(boost::system::error_code, Reply), 208>;

// Tracks requests from submission to reply, keeping them in issue order.
//
// Requests are written in order and Redis answers in order, so the oldest
// in-flight request owns the next reply. A request that times out after it
// was written stays in flight without a callback, to swallow its late reply.
//
// A request Redis refused without running it (see classify_refusal) is set
// aside to be sent again, and nothing new is written until every request
// written before the refusal has been answered: if those were refused too
// they join it, in order, and all go out again ahead of everything queued
// (resume_refused), so commands still apply in issue order. If one of them
// ran instead, the refused requests before it cannot run any more without
// overtaking it: they fail with Errc::connection (not run).
//
// A fence (push_fence) is a marker for one Redis Cluster slot, never sent
// to Redis, that passes once every request of that slot pushed before it
// has left the queue: answered, redirected, failed, or expired unsent.
// Requests of other slots do not hold it up. It keeps its place among
// refused requests, so a fence behind a refused request of its slot waits
// for its retry.
//
// The queue never invokes callbacks: it appends them, with their outcome, to
// the `finished` vector its caller runs once the queue is consistent again
// (callbacks may submit new requests). Not thread-safe.
//
// The entries live in vectors that keep their capacity between batches, so
// a steady stream of requests allocates nothing here; capacity grown by a
// burst is released once the burst has drained.
class RequestQueue {
 public:
  using clock = std::chrono::steady_clock;

  struct Finished {
    ReplyCallback done;
    boost::system::error_code error;
    Reply reply;
    void run() { done(error, std::move(reply)); }
  };

  // A request Redis Cluster redirected (MOVED or ASK) instead of running
  // it, handed back whole with its callback, so that the cluster client can
  // send it on without keeping a copy of every request it routes.
  struct Redirected {
    Request request;
    ReplyCallback done;
    clock::time_point deadline;
    int redirects;  // how often it was redirected before this reply
    Reply reply;    // the MOVED or ASK error
  };

  // `redirects` counts the redirections the request already followed;
  // with `asking` (Redis Cluster, after ASK) ASKING goes right before it,
  // also whenever it is sent again after a refusal. `slot` is the request's
  // Redis Cluster slot, for fences (Request::no_keys: none).
  void push(Request request, ReplyCallback done, clock::time_point deadline, int redirects = 0,
            bool asking = false, std::int32_t slot = Request::no_keys);

  // A fence for `slot` after everything pushed so far: `passed` is
  // finished (with no error and no reply) once no request of `slot` pushed
  // before it remains. Call settle_fences() after pushing.
  void push_fence(std::int32_t slot, ReplyCallback passed);

  // Finishes the fences that no request of their slot is left ahead of any
  // more. The other members do this themselves; push_fence does not, so
  // that a batch of pushes settles once.
  void settle_fences(std::vector<Finished>& finished) {
    if (fences_ != 0) pass_fences(finished);
  }

  // Appends the bytes of every queued request to `out` and moves them in
  // flight; nothing while refused requests wait. Returns how many requests
  // it wrote (fences taken along write nothing).
  std::size_t take_writable(std::string& out);

  // Matches `reply` with the oldest in-flight request. Returns the refusal
  // when Redis refused that request (it is then set aside, and an EVALSHA
  // refused with NOSCRIPT becomes EVAL). With `redirected`, a MOVED or ASK
  // reply hands its request back there instead of finishing it (one nobody
  // waits for any more is dropped, and one behind a refused request of its
  // slot joins the refused ones, to be sent here again after them). Throws
  // Error{Errc::connection} when nothing is in flight (a protocol desync).
  std::optional<Refusal> on_reply(Reply reply, std::vector<Finished>& finished,
                                  std::vector<Redirected>* redirected = nullptr);

  // True when refused requests wait and every earlier request is answered:
  // time to resume_refused(), after whatever cures the refusal.
  bool refused_ready() const noexcept { return !refused_.empty() && in_flight_.empty(); }
  // Puts the refused requests back ahead of everything queued, in order.
  void resume_refused();

  // The connection is gone: whatever was in flight fails with `error`
  // (Redis may or may not have run it). Queued and refused requests stay.
  void fail_in_flight(boost::system::error_code error, std::vector<Finished>& finished);

  // Fails everything, queued, refused and in flight.
  void fail_all(boost::system::error_code error, std::vector<Finished>& finished);

  // Fails requests whose deadline is at or before `now`: in-flight ones
  // with Errc::timeout, the others (never run) with `unsent_error`.
  void expire(clock::time_point now, boost::system::error_code unsent_error,
              std::vector<Finished>& finished);

  // The earliest deadline of a request that still has a callback.
  std::optional<clock::time_point> next_deadline() const;

  // How many script calls have been answered (not refused) so far.
  std::size_t scripts_answered() const noexcept { return scripts_answered_; }

  std::size_t queued() const noexcept { return queued_.size(); }
  // Requests written and not answered yet (fences written behind them
  // included).
  std::size_t in_flight() const noexcept { return in_flight_.size() - answered_; }
  std::size_t refused() const noexcept { return refused_.size(); }

 private:
  struct Entry {
    Request request;
    ReplyCallback done;
    clock::time_point deadline;
    int redirects;
    std::int32_t slot = Request::no_keys;  // a fence's slot, too
    bool asking = false;
    bool asking_sent = false;  // in flight behind an ASKING whose reply is due first
    bool fence = false;
  };

  void finish(Entry& entry, boost::system::error_code error, Reply reply,
              std::vector<Finished>& finished);
  std::optional<Refusal> answer_oldest(Reply&& reply, std::vector<Finished>& finished,
                                       std::vector<Redirected>* redirected);
  void pass_fences(std::vector<Finished>& finished);

  // The oldest in-flight entry, and taking it off the front.
  Entry& oldest_in_flight() noexcept { return in_flight_[answered_]; }
  void pop_oldest_in_flight();
  void clear_in_flight();

  std::vector<Entry> queued_;
  // Entries before answered_ are answered and moved from; they are dropped
  // in bulk once they are half of the vector, so popping the front is
  // amortized O(1) without a deque's per-chunk allocations.
  std::vector<Entry> in_flight_;
  std::size_t answered_ = 0;
  std::vector<Entry> refused_;
  std::size_t fences_ = 0;  // fences in any of the vectors
  std::size_t scripts_answered_ = 0;
};

}  // namespace distkit::detail
