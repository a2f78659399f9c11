#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "termination_cleanup.hpp"

namespace distkit::tools {

ChildProcess spawn(const std::vector<std::string>& argv, ChildOutput output,
                   const std::string& working_directory, ChildLifetime lifetime) {
  // Built before fork: the child may only call async-signal-safe functions.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int fds[2] = {-1, -1};
  if (output == ChildOutput::pipe && pipe(fds) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe");
  }
  const int null_fd = output != ChildOutput::pipe ? open("/dev/null", O_WRONLY) : -1;
  const pid_t caller = getpid();
  const pid_t pid = fork_tracked();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    // The parent may block termination signals to handle them on a thread
    // of its own; the child starts with the default of none blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // The caller may have ended before the request took effect; then no
    // signal will come, so end now.
    if (lifetime == ChildLifetime::ends_with_caller &&
        (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != caller)) {
      _exit(127);
    }
    dup2(output == ChildOutput::pipe ? fds[1] : null_fd, STDOUT_FILENO);
    if (output == ChildOutput::silence) dup2(null_fd, STDERR_FILENO);
    if (working_directory.empty() || chdir(working_directory.c_str()) == 0) {
      execvp(args[0], args.data());
    }
    _exit(127);
  }
  if (output == ChildOutput::pipe) close(fds[1]);
  if (null_fd >= 0) close(null_fd);
  return {pid, fds[0]};
}

int wait_for_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  untrack_child(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace distkit::tools
