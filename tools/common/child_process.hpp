// Starting other programs without a shell, for the tool and the tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace distkit::tools {

struct ChildProcess {
  pid_t pid = -1;
  int output = -1;  // the read end of the child's stdout, or -1 when discarded
};

// pipe: stdout to the caller; discard: stdout to /dev/null; silence: stdout
// and stderr to /dev/null (a helper program whose chatter means nothing to
// the user).
enum class ChildOutput { pipe, discard, silence };

// independent: the child may outlive the caller. ends_with_caller: the
// child gets SIGKILL when the thread that started it ends, so that a caller
// that dies without running its destructors (a crash, a sanitizer's halt,
// SIGKILL) leaves no server or worker behind; start such a child from a
// thread that outlives it.
enum class ChildLifetime { independent, ends_with_caller };

// Starts argv[0] (searched in PATH) with the arguments exactly as given,
// its stdout piped to the caller or sent to /dev/null; stderr is shared
// unless `output` silences it.
// Throws std::system_error when the pipe or the fork fails; a program that
// cannot be run exits with 127. The child starts with no signal blocked and
// is tracked (termination_cleanup.hpp) until wait_for_exit() reaps it.
// With a non-empty `working_directory` the child runs there (or exits with
// 127 if it cannot).
ChildProcess spawn(const std::vector<std::string>& argv, ChildOutput output,
                   const std::string& working_directory = {},
                   ChildLifetime lifetime = ChildLifetime::independent);

// Waits for `pid` and returns its exit code (128 + signal when killed).
int wait_for_exit(pid_t pid);

}  // namespace distkit::tools
