// Extra Redis processes for fixtures that need more than one plain
// redis-server: TLS, Unix sockets, replicas and sentinels.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tls_certificates.hpp"

namespace distkit::test {

// A fresh temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const noexcept { return path_; }
  // path()/name.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// One server process (redis-server, or redis-server --sentinel) started
// with `argv` exactly as given, its output discarded. The destructor kills
// and reaps it, so a failing test leaves nothing running; and it gets
// SIGKILL when the thread that started it ends, so a test process that
// crashes leaves none either. Start it from a thread that outlives it.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> argv);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // SIGKILL (a crash: nothing saved) and wait for the exit.
  void kill();
  // SIGTERM (a clean shutdown) and wait for the exit.
  void stop();
  // Runs the same command line again.
  void start();
  bool running() const noexcept { return pid_ > 0; }

 private:
  void signal_and_wait(int signal);

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
};

// Runs `redis-cli <cli_args...> PING` until it prints PONG; false when
// `timeout` passes first.
bool wait_for_pong(const std::vector<std::string>& cli_args,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A CA, and server and client certificates it signed, made by the openssl
// command line at construction (tls_certificates.hpp): the server's for
// DNS:localhost and IP:127.0.0.1. Also a second CA that signed nothing here
// (the wrong CA).
class TestCertificates {
 public:
  TestCertificates();

  std::string ca() const { return dir_.file(tools::ca_certificate_file); }
  std::string wrong_ca() const { return dir_.file("wrong-ca.crt"); }
  std::string server_cert() const { return dir_.file(tools::server_certificate_file); }
  std::string server_key() const { return dir_.file(tools::server_key_file); }
  std::string client_cert() const { return dir_.file("client.crt"); }
  std::string client_key() const { return dir_.file("client.key"); }

 private:
  TempDir dir_;
};

}  // namespace distkit::test
