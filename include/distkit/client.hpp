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

// TLS settings for the rediss://, rediss-sentinel:// and rediss-cluster://
// schemes. The server
// is always verified (certificate chain and host name, or IP address SAN)
// unless verify_peer is set to false.
struct TlsOptions {
  std::string ca_file;      // PEM bundle to verify the server; empty: the system's default paths
  std::string cert_file;    // client certificate (PEM) for mutual TLS; empty: none
  std::string key_file;     // its private key (PEM)
  std::string server_name;  // SNI and the name verified; empty: the host of the URL
  bool verify_peer = true;  // false only for tests; never the default
};

struct ClientOptions {
  // Where Redis is (credentials are optional everywhere; a user selects an
  // ACL user and needs a password):
  //   redis://[[user]:password@]host[:port][/db]           one Redis over TCP
  //   rediss://[[user]:password@]host[:port][/db]          the same over TLS
  //   unix:///path/to/socket[?db=N][&user=U][&password=P]  over a Unix socket
  //   redis-sentinel://[[user]:password@]h1[:p1],h2[:p2]/db#master
  //   rediss-sentinel://...   the master Sentinel names, following failovers;
  //       Sentinel's own credentials, if any, go in the query:
  //       ?sentinel_password=P (and &sentinel_user=U)
  //   redis-cluster://[[user]:password@]h1[:p1],h2[:p2]   Redis Cluster from
  //   rediss-cluster://...    any seed nodes; credentials and TLS for every node
  // Ports default to 6379 (26379 for sentinels), the db to 0. With a
  // password the client sends AUTH, with a db SELECT, before any other
  // command. Percent-escape reserved characters in passwords.
  std::string url = "redis://127.0.0.1:6379";
  // How long connect() waits for the first connection (and each reconnect
  // attempt waits) before giving up on it.
  std::chrono::milliseconds connect_timeout{1000};
  // How long a command may wait for its reply, counted from the call; this
  // includes time spent waiting for a reconnect.
  std::chrono::milliseconds command_timeout{1000};
  TlsOptions tls;  // used by the rediss* schemes
};

// One connection to Redis with auto-pipelining: commands issued
// concurrently from any number of threads or coroutines are coalesced into
// as few writes as possible and replies are matched in order. Commands of
// one client apply in Redis in the order they were issued.
//
// A dropped connection is re-established in the background with exponential
// backoff; a command issued while Redis is away fails within command_timeout
// with Errc::connection or Errc::timeout. A command Redis refused without
// running it because of a passing state (LOADING, BUSY, MASTERDOWN,
// TRYAGAIN, CLUSTERDOWN, READONLY after a failover) is sent again, after
// reconnecting or asking Sentinel where that is the cure, until
// command_timeout; only a state that outlasts it reaches the caller, as
// Errc::timeout (or Errc::connection when disconnected). Lua scripts run by
// EVALSHA, a script's first use on a connection by EVAL (which loads it);
// every reconnect loads the scripts used so far, and after a SCRIPT
// FLUSH the refused calls are sent again as EVAL, still in issue order (a
// refused call that a later, already executed command has overtaken fails
// with Errc::connection instead: it was not run).
//
// On Redis Cluster the client keeps one such connection per master and
// sends each command to the master of its keys' slot, following MOVED and
// ASK and the replica promoted after a failover (see README "Redis
// Cluster"); commands of one slot apply in issue order, also while the
// slot moves between masters (README "Redis Cluster", Order, has the
// limits: a failed call leaves a gap, and while a slot migrates only the
// calls on one key keep their order).
//
// Problems without a caller (a lost connection, credentials rejected on a
// reconnect) go to the log hook (distkit/log.hpp).
//
// Thread-safe. Share one Client (by shared_ptr) between all counters.
class Client {
 public:
  // Parses `options.url`, opens the connection and runs the handshake on a
  // private I/O thread owned by the client.
  // Throws Error{Errc::invalid_argument} for a malformed URL (the message
  // names the wrong part and never repeats a password), a non-positive
  // timeout or unusable TLS files; Error{Errc::connection} when Redis cannot
  // be reached, the TLS handshake or verification fails, or Redis rejects
  // AUTH ("authentication failed: WRONGPASS ...") or SELECT, within
  // connect_timeout. A Redis still loading its dataset is waited for within
  // connect_timeout.
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
