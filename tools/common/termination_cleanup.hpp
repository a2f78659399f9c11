// What a process of the tool started (child processes, temporary
// directories), so that a SIGINT, SIGTERM or SIGHUP does not leave it behind.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace distkit::tools {

// fork(), with the child recorded to be stopped with SIGTERM, and waited
// for, if the process is told to terminate; no signal can slip in between
// the fork and the record. spawn() uses it, and wait_for_exit() drops the
// record. Thread-safe.
pid_t fork_tracked();
void untrack_child(pid_t pid);

// Records a directory to be removed, after the children are gone, if the
// process is told to terminate. Thread-safe.
void track_directory(const std::string& path);
void untrack_directory(const std::string& path);

// From now on SIGINT, SIGTERM and SIGHUP stop every tracked child, remove
// every tracked directory, then end the process by that signal (so its
// parent sees exit status 128 + signal). Blocks those signals in the calling
// thread and starts a thread that waits for them: call it before any other
// thread starts, so that every thread inherits the block. `before_cleanup`,
// if given, runs on that thread first (e.g. to silence a log). Only the
// first call has an effect.
void clean_up_on_termination_signals(std::function<void()> before_cleanup = {});

// Whether a termination signal arrived and the process is going down: what
// fails from now on is the cleanup's doing, not worth reporting.
bool termination_requested() noexcept;

}  // namespace distkit::tools
