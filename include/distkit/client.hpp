// Client: the Redis connection shared by every counter of a process.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace distkit {

namespace detail {
class Connection;
struct ClientAccess;
}  // namespace detail

struct ClientOptions {
  // redis://[[user]:password@]host[:port][/db]. Port defaults to 6379 and db
  // to 0. With a password the client sends AUTH (AUTH user password when a
  // user is given), with a db it sends SELECT, before any other command.
  std::string url = "redis://127.0.0.1:6379";
  // How long connect() waits for the first connection (and each reconnect
  // attempt waits) before giving up on it.
  std::chrono::milliseconds connect_timeout{1000};
  // How long a command may wait for its reply, counted from the call; this
  // includes time spent waiting for a reconnect.
  std::chrono::milliseconds command_timeout{1000};
};

// One TCP connection to Redis with auto-pipelining: commands issued
// concurrently from any number of threads or coroutines are coalesced into
// as few writes as possible and replies are matched in order.
//
// A dropped connection is re-established in the background with exponential
// backoff; a command issued while Redis is away fails within command_timeout
// with Errc::connection or Errc::timeout. Lua scripts run by EVALSHA and are
// reloaded transparently after NOSCRIPT (a Redis restart or SCRIPT FLUSH).
//
// Thread-safe. Share one Client (by shared_ptr) between all counters.
class Client {
 public:
  // Parses `options.url`, opens the connection and runs the handshake on a
  // private I/O thread owned by the client.
  // Throws Error{Errc::invalid_argument} for a malformed URL or a
  // non-positive timeout, Error{Errc::connection} when Redis cannot be
  // reached (or rejects AUTH/SELECT) within connect_timeout.
  static std::shared_ptr<Client> connect(ClientOptions options = {});

  // connect() with default timeouts and the given URL.
  static std::shared_ptr<Client> connect(std::string url);

  // As connect(options), but all I/O and every internal handler runs on
  // `executor` (for example an io_context your application already runs)
  // instead of a private thread. The executor must be running when
  // connect() is called: connect() blocks until the first connection is up,
  // so do not call it from that executor's only thread. Completions of
  // async operations still go to each handler's associated executor.
  static std::shared_ptr<Client> connect(boost::asio::any_io_executor executor,
                                         ClientOptions options = {});

  // Closes the connection. Commands in progress and later ones fail with
  // Errc::closed. Idempotent; the destructor calls it. Blocks until the I/O
  // side has stopped, so do not call it from the client's executor.
  void close();

  // Closes the client. Do not drop the last reference from a handler running
  // on the client's own I/O thread.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The options the client was created with.
  const ClientOptions& options() const noexcept;

 private:
  friend struct detail::ClientAccess;
  struct IoThread;
  Client(std::unique_ptr<IoThread> io_thread, std::shared_ptr<detail::Connection> connection,
         ClientOptions options);

  std::unique_ptr<IoThread> io_thread_;  // null when running on the caller's executor
  std::shared_ptr<detail::Connection> connection_;
  ClientOptions options_;
};

}  // namespace distkit
