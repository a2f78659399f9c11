// The LaxCounter's queue of Redis work, without any I/O (sans-IO).
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <deque>
#include <optional>

#include "client/unique_function.hpp"

namespace distkit::detail {

// Runs jobs one at a time, in the order they were enqueued: a job starts only
// once the previous one called finished(). While blocked (a failed flush
// waits for its retry) no job starts. A job still waiting at its deadline is
// expired instead of started. Not thread-safe: the counter uses it on its
// connection's strand.
class LaxLane {
 public:
  using clock = std::chrono::steady_clock;

  struct Job {
    // Starts the work; whoever completes it calls finished().
    UniqueFunction<void()> start;
    // Called instead of start when the job expires or the lane closes.
    UniqueFunction<void(boost::system::error_code)> expire;
    // time_point::max() for a job that waits as long as it takes.
    clock::time_point deadline = clock::time_point::max();
  };

  // The error an expired job gets when it expires on its way to starting.
  explicit LaxLane(UniqueFunction<boost::system::error_code()> expiry_error);

  // Queues `job`, starting it at once when the lane is idle; expires it at
  // once after close().
  void enqueue(Job job);
  // The running job is done: starts the next one.
  void finished();
  void block() noexcept { blocked_ = true; }
  // Lifts block() and starts the next job.
  void unblock();
  bool blocked() const noexcept { return blocked_; }

  // Expires the waiting jobs whose deadline is at or before `now`.
  void expire(clock::time_point now);
  // Expires every waiting job and each later one with `error`.
  void close(boost::system::error_code error);

  // The earliest deadline among waiting jobs, if any has one.
  std::optional<clock::time_point> next_deadline() const;

 private:
  void pump();

  UniqueFunction<boost::system::error_code()> expiry_error_;
  std::deque<Job> waiting_;
  bool running_ = false;
  bool pumping_ = false;
  bool blocked_ = false;
  std::optional<boost::system::error_code> closed_;
};

}  // namespace distkit::detail
