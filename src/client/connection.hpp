// The socket side of the client: one auto-pipelined connection to one Redis.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "client/request.hpp"
#include "client/request_queue.hpp"
#include "client/url.hpp"

namespace distkit::detail {

class TlsContext;
class Locator;
class NodeConnection;

// Owns one connection to Redis (TCP, TLS or a Unix socket) and everything
// that keeps it going: finding the server (a fixed address or the master
// Sentinel names), the handshake, auto-pipelining, per-request deadlines,
// retries of refused commands in issue order, and reconnects with backoff.
// The protocol state lives in Handshake, RequestQueue, ReplyReader and
// Backoff; this class only moves bytes and timers.
//
// execute() and close() are thread-safe. All internal work, and every
// ReplyCallback, runs on executor() (a strand), one at a time, in the order
// the replies arrive.
class Connection {
 public:
  struct Settings {
    RedisUrl url;
    std::shared_ptr<const TlsContext> tls;  // set for the rediss schemes
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds command_timeout;
  };

  using Strand = boost::asio::strand<boost::asio::any_io_executor>;
  // Makes the locator of a connection whose strand is the argument.
  using LocatorFactory = std::function<std::unique_ptr<Locator>(const Strand&)>;

  // When a request must be answered, whether ASKING goes right before it
  // (Redis Cluster, after an ASK redirection), how many redirections it
  // followed to get here, and its Redis Cluster slot (for fences).
  struct Submission {
    std::chrono::steady_clock::time_point deadline;
    bool asking = false;
    int redirects = 0;
    std::int32_t slot = Request::no_keys;
  };

  // Takes a request Redis Cluster redirected, with its callback (which is
  // then not called by the connection). Runs on the connection's strand.
  using RedirectHandler = std::function<void(RequestQueue::Redirected)>;

  // Starts connecting on `executor` and blocks until the first connection is
  // ready. Throws Error{Errc::connection} when it fails within
  // connect_timeout, saying why (an authentication failure says so).
  static std::shared_ptr<Connection> open(boost::asio::any_io_executor executor, Settings settings);

  // A connection that shares `strand` and finds its server through the
  // locator `locate` makes. Returns at once; requests wait for the first
  // connection, and a failed attempt is retried with backoff like a
  // reconnect. A request answered with MOVED or ASK goes to
  // `on_redirect` instead of its callback. Used by Redis Cluster, one per
  // master.
  static std::shared_ptr<NodeConnection> start(const Strand& strand, Settings settings,
                                               const LocatorFactory& locate,
                                               RedirectHandler on_redirect);

  virtual ~Connection() = default;

  // Sends `request` and calls `done` with its reply, or with Errc::timeout /
  // Errc::connection once command_timeout has passed, or Errc::closed.
  void execute(Request request, ReplyCallback done) {
    submit(std::move(request), std::move(done),
           {std::chrono::steady_clock::now() + command_timeout()});
  }

  // execute() with the deadline (and ASKING) given.
  virtual void submit(Request request, ReplyCallback done, Submission how) = 0;

  // Fails every request with Errc::closed and stops reconnecting. Blocks
  // until that is done unless called on executor().
  virtual void close() = 0;

  // True once close() was called: every later request fails with
  // Errc::closed.
  virtual bool closed() const noexcept = 0;

  // The strand all callbacks run on.
  virtual const boost::asio::any_io_executor& executor() const noexcept = 0;

  virtual std::chrono::milliseconds command_timeout() const noexcept = 0;

  // True for Redis Cluster, where every request goes to the master of its
  // keys' slot.
  virtual bool routes_by_slot() const noexcept { return false; }
};

// The connection to one master of a Redis Cluster (Connection::start), with
// what the cluster client needs to keep each slot's calls in issue order
// when the slot changes hands.
class NodeConnection : public Connection {
 public:
  // A slot's route as the cluster client keeps it: an atomic word that the
  // request may go by while it holds `expected`.
  struct Route {
    const std::atomic<std::uintptr_t>* word;
    std::uintptr_t expected;
  };

  // submit(), but only while `route` still holds its expected value, read
  // under the lock that orders this connection's submissions; otherwise
  // returns false and leaves `request` and `done` as they were. Whoever
  // changes the word and then calls fence() here knows that every request
  // submitted by the old route is ahead of the fence.
  virtual bool submit_on_route(Request& request, ReplyCallback& done, Submission how,
                               Route route) = 0;

  // Calls `passed` (with no error and no reply) on executor() once every
  // request of `slot` (Submission::slot) submitted before has left the
  // connection: answered, handed back as redirected, failed, or expired
  // unsent (one that expired after it was sent leaves when its reply comes
  // or the connection is given up). Sends nothing to Redis.
  virtual void fence(std::int32_t slot, ReplyCallback passed) = 0;
};

}  // namespace distkit::detail
