// Running other programs from tests, without a shell.
#pragma once

#include <string>
#include <vector>

namespace distkit::test {

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout, with trailing whitespace removed
};

// Runs argv[0] (searched in PATH) with the arguments exactly as given and
// waits for it. stderr goes to the test's stderr.
ProcessResult run(const std::vector<std::string>& argv);

// run(argv).output; fails the current test when the exit code is not 0.
std::string run_process(const std::vector<std::string>& argv);

}  // namespace distkit::test
