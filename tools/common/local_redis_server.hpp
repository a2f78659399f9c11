// A private redis-server process on a free loopback port, for the distkit
// tool's demo and bench and for tests that stop, restart or reconfigure
// Redis.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace distkit::tools {

// Starts `redis-server` on a free loopback port in a fresh temporary
// directory, without persistence unless `extra_args` asks for it
// (e.g. {"--appendonly", "yes"}: data then survives restart()). The
// destructor stops it and removes the directory, and so does a termination
// signal once clean_up_on_termination_signals() is in effect. Throws
// std::runtime_error, leaving neither process nor directory behind, when
// the server cannot start or does not come up within 10 s.
class LocalRedisServer {
 public:
  explicit LocalRedisServer(std::vector<std::string> extra_args = {});
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

  std::uint16_t port() const noexcept { return port_; }
  std::string url() const;

 private:
  void remove_directory();

  std::vector<std::string> extra_args_;
  std::string directory_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace distkit::tools
