#include "counters/lax_lane.hpp"

#include <vector>

namespace distkit::detail {

LaxLane::LaxLane(UniqueFunction<boost::system::error_code()> expiry_error)
    : expiry_error_(std::move(expiry_error)) {}

void LaxLane::enqueue(Job job) {
  if (closed_) return job.expire(*closed_);
  waiting_.push_back(std::move(job));
  pump();
}

void LaxLane::finished() {
  running_ = false;
  pump();
}

void LaxLane::unblock() {
  blocked_ = false;
  pump();
}

// Jobs may finish (and so call back into finished()) while being started;
// the loop, not recursion, starts their successors.
void LaxLane::pump() {
  if (pumping_) return;
  pumping_ = true;
  while (!running_ && !blocked_ && !waiting_.empty()) {
    Job job = std::move(waiting_.front());
    waiting_.pop_front();
    if (job.deadline <= clock::now()) {
      job.expire(expiry_error_());
      continue;
    }
    running_ = true;
    job.start();
  }
  pumping_ = false;
}

void LaxLane::expire(clock::time_point now) {
  std::vector<Job> expired;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->deadline > now) {
      ++it;
    } else {
      expired.push_back(std::move(*it));
      it = waiting_.erase(it);
    }
  }
  // Called once the queue is consistent again: they may enqueue more.
  for (Job& job : expired) job.expire(expiry_error_());
}

void LaxLane::close(boost::system::error_code error) {
  closed_ = error;
  std::deque<Job> waiting = std::move(waiting_);
  waiting_.clear();
  for (Job& job : waiting) job.expire(error);
}

std::optional<LaxLane::clock::time_point> LaxLane::next_deadline() const {
  std::optional<clock::time_point> earliest;
  for (const Job& job : waiting_) {
    if (job.deadline != clock::time_point::max() && (!earliest || job.deadline < *earliest)) {
      earliest = job.deadline;
    }
  }
  return earliest;
}

}  // namespace distkit::detail
