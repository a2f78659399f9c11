#include "process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "child_process.hpp"

namespace distkit::test {

ProcessResult run(const std::vector<std::string>& argv) {
  const tools::ChildProcess child = tools::spawn(argv, tools::ChildOutput::pipe);
  ProcessResult result;
  char buffer[4096];
  for (ssize_t n; (n = read(child.output, buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  close(child.output);
  result.exit_code = tools::wait_for_exit(child.pid);
  while (!result.output.empty() && std::isspace(static_cast<unsigned char>(result.output.back()))) {
    result.output.pop_back();
  }
  return result;
}

std::string run_process(const std::vector<std::string>& argv) {
  ProcessResult result = run(argv);
  EXPECT_EQ(result.exit_code, 0) << argv.front() << " failed: " << result.output;
  return result.output;
}

}  // namespace distkit::test
