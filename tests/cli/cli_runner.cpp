#include "cli_runner.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

extern char** environ;

namespace distkit::test {

StartedCli start_distkit(const std::vector<std::string>& args, const Environment& environment) {
  // Everything the child needs is built before fork().
  std::vector<std::string> argv{DISTKIT_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> arg_pointers;
  for (std::string& arg : argv) arg_pointers.push_back(arg.data());
  arg_pointers.push_back(nullptr);
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    if (!environment.contains(text.substr(0, text.find('=')))) env.push_back(text);
  }
  for (const auto& [name, value] : environment) env.push_back(name + "=" + value);
  std::vector<char*> env_pointers;
  for (std::string& entry : env) env_pointers.push_back(entry.data());
  env_pointers.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe");
  }
  const pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  return {pid, out_pipe[0], err_pipe[0]};
}

CliResult finish(StartedCli& cli) {
  CliResult result;
  std::array<pollfd, 2> fds{{{cli.out, POLLIN, 0}, {cli.err, POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int open_streams = 2;
  while (open_streams > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;  // poll skips negative descriptors
        --open_streams;
      }
    }
  }
  int status = 0;
  while (waitpid(cli.pid, &status, 0) < 0 && errno == EINTR) {
  }
  cli = {};
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CliResult run_distkit(const std::vector<std::string>& args, const Environment& environment) {
  StartedCli cli = start_distkit(args, environment);
  return finish(cli);
}

void expect_one_line_failure(const CliResult& result, int exit_code,
                             const std::vector<std::string>& args) {
  const std::string context = testing::PrintToString(args) + " stderr: " + result.err;
  EXPECT_EQ(result.exit_code, exit_code) << context;
  EXPECT_EQ(result.out, "") << context;
  EXPECT_TRUE(result.err.starts_with("distkit: ")) << context;
  ASSERT_FALSE(result.err.empty()) << context;
  EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << context;
}

}  // namespace distkit::test
