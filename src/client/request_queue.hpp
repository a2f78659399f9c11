// The connection's request bookkeeping, without any I/O (sans-IO).
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "client/reply.hpp"
#include "client/request.hpp"
#include "client/unique_function.hpp"

namespace distkit::detail {

// Receives the outcome of one request: an error_code (Errc::timeout,
// Errc::connection, Errc::closed) or the reply, which may be a Redis error.
using ReplyCallback = UniqueFunction<void(boost::system::error_code, Reply)>;

// Tracks requests from submission to reply. Requests are written in order
// and Redis answers in order, so the oldest in-flight request owns the next
// reply. A request that times out after it was written stays in flight
// without a callback, to swallow its late reply. After NOSCRIPT a request is
// re-queued as EVAL ahead of everything not yet written, in the order the
// NOSCRIPT replies came.
//
// The queue never invokes callbacks: it appends them, with their outcome, to
// the `finished` vector its caller runs once the queue is consistent again
// (callbacks may submit new requests). Not thread-safe.
class RequestQueue {
 public:
  using clock = std::chrono::steady_clock;

  struct Finished {
    ReplyCallback done;
    boost::system::error_code error;
    Reply reply;
    void run() { done(error, std::move(reply)); }
  };

  void push(Request request, ReplyCallback done, clock::time_point deadline);
  // Queues ahead of everything else (the handshake of a new connection).
  void push_front(Request request, ReplyCallback done, clock::time_point deadline);

  // Appends the bytes of up to `limit` queued requests to `out` and moves
  // them in flight. Returns how many it took.
  std::size_t take_writable(std::string& out,
                            std::size_t limit = std::numeric_limits<std::size_t>::max());

  // Matches `reply` with the oldest in-flight request. Throws
  // Error{Errc::connection} when nothing is in flight (a protocol desync).
  void on_reply(Reply reply, std::vector<Finished>& finished);

  // The connection is gone: whatever was in flight fails with `error`
  // (Redis may or may not have run it). Queued requests stay queued.
  void fail_in_flight(boost::system::error_code error, std::vector<Finished>& finished);

  // Fails everything, queued and in flight.
  void fail_all(boost::system::error_code error, std::vector<Finished>& finished);

  // Fails requests whose deadline is at or before `now`: queued ones with
  // `queued_error` (Errc::connection while disconnected), in-flight ones
  // with Errc::timeout.
  void expire(clock::time_point now, boost::system::error_code queued_error,
              std::vector<Finished>& finished);

  // The earliest deadline of a request that still has a callback.
  std::optional<clock::time_point> next_deadline() const;

  std::size_t queued() const noexcept { return queued_.size(); }
  std::size_t in_flight() const noexcept { return in_flight_.size(); }

 private:
  struct Entry {
    Request request;
    ReplyCallback done;
    clock::time_point deadline;
  };

  static void finish(Entry& entry, boost::system::error_code error, Reply reply,
                     std::vector<Finished>& finished);

  std::deque<Entry> queued_;
  std::deque<Entry> in_flight_;
  // How many entries at the front of queued_ are NOSCRIPT re-sends.
  std::size_t resends_ = 0;
};

}  // namespace distkit::detail
