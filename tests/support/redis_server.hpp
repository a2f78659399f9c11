// A private redis-server process for tests that need to stop, restart or
// reconfigure Redis.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace distkit::test {

// Starts `redis-server` on a free loopback port in a fresh temporary
// directory, without persistence unless `extra_args` asks for it
// (e.g. {"--appendonly", "yes"}: data then survives restart()). The
// destructor stops it and removes the directory.
class RedisServer {
 public:
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server again on the same port; waits until it answers PING.
  void start();
  // Stops the server (SIGTERM) and waits for the process to exit.
  void stop();
  void restart();

  std::uint16_t port() const noexcept { return port_; }
  std::string url() const;

 private:
  std::vector<std::string> extra_args_;
  std::string directory_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace distkit::test
