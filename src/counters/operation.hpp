// One counter call as a request plus the decoding of its reply, and the two
// ways of running it: blocking (throws Error) and async (completes an Asio
// handler on its associated executor).
#pragma once

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "client/connection.hpp"
#include "client/reply.hpp"
#include "client/unique_function.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {

// The value type of calls that return nothing (clear).
struct Done {};

// The result of a call: a value, or an error code with a message for the
// blocking form's exception.
template <class T>
struct Outcome {
  boost::system::error_code error;
  std::string message;
  T value{};

  // Keeps the detail of `e` without the message of its code, which the
  // Error thrown later appends again.
  static Outcome failure(const Error& e) {
    std::string detail = e.what();
    const std::string suffix = e.code().message();
    if (detail == suffix) {
      detail.clear();
    } else if (detail.ends_with(": " + suffix)) {
      detail.resize(detail.size() - suffix.size() - 2);
    }
    return {e.code(), std::move(detail), T{}};
  }
  T value_or_throw() && {
    if (error) throw Error(error, message);
    return std::move(value);
  }
};

// Turns a reply (which may be a Redis error) into T; throws Error. Sized to
// hold a parser that keeps a hash name, a key and a count inline.
template <class T>
using ReplyParser = UniqueFunction<T(const Reply&), 80>;

// Sized to hold a completion handler and its executor inline; a
// ReplyCallback holds a ReplyParser and an OutcomeCallback inline.
template <class T>
using OutcomeCallback = UniqueFunction<void(Outcome<T>), 96>;

// Sends `request` and reports the parsed outcome to `done`, on the
// connection's strand.
template <class T>
void submit(Connection& connection, Request request, ReplyParser<T> parse,
            OutcomeCallback<T> done) {
  connection.execute(std::move(request), [parse = std::move(parse), done = std::move(done)](
                                             boost::system::error_code error, Reply reply) mutable {
    if (error) return done({error, {}, T{}});
    try {
      done({{}, {}, parse(reply)});
    } catch (const Error& e) {
      done(Outcome<T>::failure(e));
    }
  });
}

// Waits for `flag` by spinning for about a loopback round trip, when few
// other threads are spinning already. A reply usually comes that fast, and
// waking a sleeping thread costs a noticeable part of such a round trip.
// The cap keeps spinners from taking the CPU the I/O thread needs.
void spin_briefly(const std::atomic<bool>& flag) noexcept;

// Blocks until `start(callback)` has reported its outcome. The connection's
// deadlines bound the wait.
template <class T, class Start>
T wait_for(Start&& start) {
  struct Rendezvous {
    std::atomic<bool> ready{false};
    Outcome<T> outcome;
  };
  auto rendezvous = std::make_shared<Rendezvous>();
  start(OutcomeCallback<T>([rendezvous](Outcome<T> outcome) {
    rendezvous->outcome = std::move(outcome);
    rendezvous->ready.store(true, std::memory_order_release);
    rendezvous->ready.notify_one();
  }));
  spin_briefly(rendezvous->ready);
  rendezvous->ready.wait(false, std::memory_order_acquire);
  return std::move(rendezvous->outcome).value_or_throw();
}

// The executor `handler` completes on (`io` when it has none), kept busy
// until the call completes.
template <class Handler>
auto tracked_executor(const Handler& handler, const boost::asio::any_io_executor& io) {
  return boost::asio::prefer(boost::asio::get_associated_executor(handler, io),
                             boost::asio::execution::outstanding_work.tracked);
}

// Runs `handler` with `outcome` on `work` (dispatched: at once when already
// there).
template <class T, class Executor, class Handler>
void dispatch_outcome(const Executor& work, Handler handler, Outcome<T> outcome) {
  boost::asio::dispatch(work,
                        [handler = std::move(handler), outcome = std::move(outcome)]() mutable {
                          if constexpr (std::is_same_v<T, Done>) {
                            std::move(handler)(outcome.error);
                          } else {
                            std::move(handler)(outcome.error, std::move(outcome.value));
                          }
                        });
}

// Wraps an async operation's handler: keeps its executor busy until the
// call completes, then runs it there. Never inside the async_ call itself:
// a call may complete at once (an empty batch, a lax increment), and Asio
// requires such a completion to be posted, so the outcome first goes
// through a post to `io` (the client's executor, which supports that for
// any handler) and is dispatched to the handler's executor from there.
template <class T, class Handler>
OutcomeCallback<T> completion_for(Handler handler, const boost::asio::any_io_executor& io) {
  auto work = tracked_executor(handler, io);
  return [handler = std::move(handler), work = std::move(work), io](Outcome<T> outcome) mutable {
    boost::asio::post(io, [handler = std::move(handler), work = std::move(work),
                           outcome = std::move(outcome)]() mutable {
      dispatch_outcome(work, std::move(handler), std::move(outcome));
    });
  };
}

// Like completion_for, for a call whose outcome always comes from a reply:
// the connection reports it on its strand, never inside the async_ call, so
// the handler is dispatched to its executor straight away. A handler
// without an executor of its own then runs at once on the strand, without
// a second trip through the executor's queue.
template <class T, class Handler>
OutcomeCallback<T> reply_completion_for(Handler handler, const boost::asio::any_io_executor& io) {
  auto work = tracked_executor(handler, io);
  return [handler = std::move(handler), work = std::move(work)](Outcome<T> outcome) mutable {
    dispatch_outcome(work, std::move(handler), std::move(outcome));
  };
}

// Runs a blocking call on `connection`: throws closed_error() at once when
// the connection was closed, else waits as wait_for. `closed_error` is only
// called then, so the usual path builds no Error.
template <class T, class Start, class ClosedError>
T wait_unless_closed(const Connection& connection, ClosedError closed_error, Start&& start) {
  if (connection.closed()) throw closed_error();
  return wait_for<T>(std::forward<Start>(start));
}

// The callback completing an async call's handler (completion_for); empty
// when `connection` was closed, the handler then having closed_error()
// posted.
template <class T, class Handler, class ClosedError>
OutcomeCallback<T> completion_unless_closed(Handler handler, const Connection& connection,
                                            ClosedError closed_error) {
  auto done = completion_for<T>(std::move(handler), connection.executor());
  if (!connection.closed()) return done;
  done(Outcome<T>::failure(closed_error()));
  return {};
}

}  // namespace distkit::detail
