#include "termination_cleanup.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

namespace distkit::tools {
namespace {

struct Tracked {
  std::mutex mutex;
  std::vector<pid_t> children;
  std::vector<std::string> directories;
};

std::atomic<bool> terminating{false};

Tracked& tracked() {
  static Tracked instance;
  return instance;
}

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, signal);
  return set;
}

// Runs on the signal thread, outside any signal handler, so it may allocate
// and touch the file system. Keeps the lock: nothing new may start while the
// process goes down.
[[noreturn]] void clean_up_and_die(int signal) {
  Tracked& state = tracked();
  state.mutex.lock();
  for (const pid_t pid : state.children) kill(pid, SIGTERM);
  for (const pid_t pid : state.children) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  for (const std::string& directory : state.directories) {
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
  }
  // Die of the signal itself, as the parent expects of an interrupted
  // program.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigaction(signal, &default_action, nullptr);
  const sigset_t signals = termination_signals();
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  raise(signal);
  _exit(128 + signal);  // not reached
}

template <class T>
void erase_value(std::vector<T>& values, const T& value) {
  values.erase(std::remove(values.begin(), values.end(), value), values.end());
}

}  // namespace

pid_t fork_tracked() {
  // Holding the lock across fork() makes the cleanup wait for the record.
  // The child only execs, and never touches the lock.
  const std::lock_guard lock(tracked().mutex);
  const pid_t pid = fork();
  if (pid > 0) tracked().children.push_back(pid);
  return pid;
}

void untrack_child(pid_t pid) {
  const std::lock_guard lock(tracked().mutex);
  erase_value(tracked().children, pid);
}

void track_directory(const std::string& path) {
  const std::lock_guard lock(tracked().mutex);
  tracked().directories.push_back(path);
}

void untrack_directory(const std::string& path) {
  const std::lock_guard lock(tracked().mutex);
  erase_value(tracked().directories, path);
}

bool termination_requested() noexcept {
  return terminating;
}

void clean_up_on_termination_signals(std::function<void()> before_cleanup) {
  static std::once_flag once;
  std::call_once(once, [&] {
    const sigset_t signals = termination_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread([signals, before_cleanup = std::move(before_cleanup)] {
      int signal = 0;
      while (sigwait(&signals, &signal) != 0) {
      }
      terminating = true;
      if (before_cleanup) before_cleanup();
      clean_up_and_die(signal);
    }).detach();
  });
}

}  // namespace distkit::tools
