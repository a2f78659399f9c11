// The socket side of the client: one auto-pipelined TCP connection.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>

#include "client/request.hpp"
#include "client/request_queue.hpp"
#include "client/url.hpp"

namespace distkit::detail {

// Owns one TCP connection to Redis and everything that keeps it going:
// handshake (AUTH, SELECT), auto-pipelining, per-request deadlines and
// reconnects with backoff. The protocol state lives in RequestQueue,
// ReplyReader and Backoff; this class only moves bytes and timers.
//
// execute() and close() are thread-safe. All internal work, and every
// ReplyCallback, runs on executor() (a strand), one at a time, in the order
// the replies arrive.
class Connection {
 public:
  struct Settings {
    Endpoint endpoint;
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds command_timeout;
  };

  // Starts connecting on `executor` and blocks until the first connection is
  // ready. Throws Error{Errc::connection} when it fails within
  // connect_timeout.
  static std::shared_ptr<Connection> open(boost::asio::any_io_executor executor, Settings settings);

  virtual ~Connection() = default;

  // Sends `request` and calls `done` with its reply, or with Errc::timeout /
  // Errc::connection once command_timeout has passed, or Errc::closed.
  virtual void execute(Request request, ReplyCallback done) = 0;

  // Fails every request with Errc::closed and stops reconnecting. Blocks
  // until that is done unless called on executor().
  virtual void close() = 0;

  // True once close() was called: every later request fails with
  // Errc::closed.
  virtual bool closed() const noexcept = 0;

  // The strand all callbacks run on.
  virtual const boost::asio::any_io_executor& executor() const noexcept = 0;

  virtual std::chrono::milliseconds command_timeout() const noexcept = 0;
};

}  // namespace distkit::detail
