#include "local_redis_server.hpp"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "child_process.hpp"
#include "termination_cleanup.hpp"
#include "tls_certificates.hpp"

namespace distkit::tools {

std::uint16_t free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    throw std::system_error(errno, std::generic_category(), "bind to a free port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

std::string make_tracked_directory(const std::string& name) {
  std::string pattern = (std::filesystem::temp_directory_path() / (name + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  track_directory(pattern);
  return pattern;
}

namespace {

// Whether a Redis answers on `port`.
bool answers_ping(std::uint16_t port) {
  const timeval timeout{0, 200000};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (context == nullptr) return false;
  bool pong = false;
  if (context->err == 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    // A server started with --requirepass answers NOAUTH: up all the same.
    pong =
        reply != nullptr &&
        (reply->type == REDIS_REPLY_STATUS ||
         (reply->type == REDIS_REPLY_ERROR && std::string_view(reply->str).starts_with("NOAUTH")));
    if (reply != nullptr) freeReplyObject(reply);
  }
  redisFree(context);
  return pong;
}

}  // namespace

LocalRedisServer::LocalRedisServer(std::vector<std::string> extra_args, LocalListeners listeners,
                                   std::string certificate_directory)
    : extra_args_(std::move(extra_args)),
      certificate_directory_(std::move(certificate_directory)),
      port_(free_loopback_port()) {
  directory_ = make_tracked_directory("distkit-redis");
  try {
    if (listeners == LocalListeners::plain_and_tls) {
      if (certificate_directory_.empty()) {
        certificate_directory_ = directory_;
        make_server_certificates(directory_);
      }
      do {
        tls_port_ = free_loopback_port();
      } while (tls_port_ == port_);
      extra_args_.insert(extra_args_.end(),
                         {"--tls-port", std::to_string(tls_port_), "--tls-cert-file",
                          certificate_directory_ + "/" + server_certificate_file, "--tls-key-file",
                          certificate_directory_ + "/" + server_key_file, "--tls-ca-cert-file",
                          ca_file(), "--tls-auth-clients", "no"});
    }
    start();
  } catch (...) {
    remove_directory();  // the destructor does not run for a failed constructor
    throw;
  }
}

LocalRedisServer::~LocalRedisServer() {
  stop();
  remove_directory();
}

void LocalRedisServer::remove_directory() {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
  untrack_directory(directory_);
}

std::string LocalRedisServer::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

std::string LocalRedisServer::tls_url() const {
  return tls_port_ == 0 ? "" : "rediss://127.0.0.1:" + std::to_string(tls_port_);
}

std::string LocalRedisServer::ca_file() const {
  return tls_port_ == 0 ? "" : certificate_directory_ + "/" + ca_certificate_file;
}

void LocalRedisServer::start() {
  if (pid_ > 0) return;
  std::vector<std::string> argv{
      "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
      "--save",       "",       "--appendonly",        "no",     "--dir",
      directory_};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  // The server's log would clutter the output of whoever started it.
  pid_ = spawn(argv, ChildOutput::discard, {}, ChildLifetime::ends_with_caller).pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!answers_ping(port_)) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      untrack_child(pid_);
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start (is it installed?)");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void LocalRedisServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  wait_for_exit(pid_);
  pid_ = -1;
}

void LocalRedisServer::crash() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  wait_for_exit(pid_);
  pid_ = -1;
}

void LocalRedisServer::restart() {
  stop();
  start();
}

}  // namespace distkit::tools
