// A private redis-server process on a free loopback port, for the distkit
// tool's demo and bench and for tests that stop, restart or reconfigure
// Redis.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace distkit::tools {

// Binds port 0 on loopback and returns the port the kernel chose. The
// socket is closed again, so another process could take the port in
// between; on one machine that race is harmless.
std::uint16_t free_loopback_port();

// Makes a fresh directory <temporary directory>/<name>-XXXXXX, removed by
// a termination signal once clean_up_on_termination_signals() is in effect
// until untrack_directory(); returns its path. Throws std::system_error.
std::string make_tracked_directory(const std::string& name);

// What a LocalRedisServer listens on: always plain TCP on port(); with
// plain_and_tls, also TLS on tls_port().
enum class LocalListeners { plain, plain_and_tls };

// Starts `redis-server` on a free loopback port in a fresh temporary
// directory, without persistence unless `extra_args` asks for it
// (e.g. {"--appendonly", "yes"}: data then survives restart()). The
// destructor stops it and removes the directory, and so does a termination
// signal once clean_up_on_termination_signals() is in effect. Throws
// std::runtime_error, leaving neither process nor directory behind, when
// the server cannot start or does not come up within 10 s. The server gets
// SIGKILL when the thread that started it (the constructor, restart())
// ends, so a process that dies without its destructors leaves none
// running: start it from a thread that outlives it.
//
// With LocalListeners::plain_and_tls it also serves TLS on a second free
// port, with a CA and a server certificate (DNS:localhost, IP:127.0.0.1)
// that openssl generates into the temporary directory first, or that
// `certificate_directory` holds (as make_server_certificates() writes them,
// e.g. one CA for every node of a cluster); clients need no certificate of
// their own.
class LocalRedisServer {
 public:
  explicit LocalRedisServer(std::vector<std::string> extra_args = {},
                            LocalListeners listeners = LocalListeners::plain,
                            std::string certificate_directory = {});
  ~LocalRedisServer();
  LocalRedisServer(const LocalRedisServer&) = delete;
  LocalRedisServer& operator=(const LocalRedisServer&) = delete;

  // Starts the server again on the same port; returns once it answers PING.
  void start();
  // Stops the server (SIGTERM) and waits for the process to exit.
  void stop();
  void restart();
  // Kills the server with SIGKILL (no shutdown, no final save) and waits
  // for it; start() brings it back with whatever it had persisted.
  void crash();

  // False after stop() or crash() until start().
  bool running() const noexcept { return pid_ > 0; }
  std::uint16_t port() const noexcept { return port_; }
  std::string url() const;
  // 0 without TLS.
  std::uint16_t tls_port() const noexcept { return tls_port_; }
  // rediss://127.0.0.1:<tls_port()>; empty without TLS.
  std::string tls_url() const;
  // The CA that signed the server's certificate; empty without TLS.
  std::string ca_file() const;

 private:
  void remove_directory();

  std::vector<std::string> extra_args_;
  std::string directory_;
  std::string certificate_directory_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace distkit::tools
