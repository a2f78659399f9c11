#include "server_process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>

#include "child_process.hpp"
#include "process.hpp"
#include "tls_certificates.hpp"

namespace distkit::test {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "distkit-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ServerProcess::ServerProcess(std::vector<std::string> argv) : argv_(std::move(argv)) {
  start();
}

ServerProcess::~ServerProcess() {
  kill();
}

void ServerProcess::start() {
  if (pid_ > 0) return;
  const tools::ChildProcess child =
      tools::spawn(argv_, tools::ChildOutput::discard, {}, tools::ChildLifetime::ends_with_caller);
  pid_ = child.pid;
}

void ServerProcess::kill() {
  signal_and_wait(SIGKILL);
}

void ServerProcess::stop() {
  signal_and_wait(SIGTERM);
}

void ServerProcess::signal_and_wait(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  tools::wait_for_exit(pid_);
  pid_ = -1;
}

bool wait_for_pong(const std::vector<std::string>& cli_args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{"redis-cli"};
  argv.insert(argv.end(), cli_args.begin(), cli_args.end());
  argv.push_back("PING");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (run(argv).output != "PONG") {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TestCertificates::TestCertificates() {
  tools::make_server_certificates(dir_.path());
  tools::make_certificate(dir_.path(), "wrong-ca", "/CN=some other CA");
  tools::make_certificate(dir_.path(), "client", "/CN=distkit test client", "ca");
}

}  // namespace distkit::test
