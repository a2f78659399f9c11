// Group commit for script calls, sans-IO: while `max_in_flight` groups are
// in flight, new calls wait and leave together, as one group, when a group
// finishes. Each call stays atomic (its entries are contiguous in one script
// invocation); Redis runs the script once per group instead of once per
// call, which is most of its cost for small calls.
#pragma once

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace distkit::detail::instance_aware {

template <class Call>
class CallCombiner {
 public:
  // `max_entries` bounds a group (a call larger than it goes alone).
  CallCombiner(int max_in_flight, std::size_t max_entries)
      : max_in_flight_(max_in_flight), max_entries_(max_entries) {}

  // A new call of `entries` entries. Returns the group to send now (just
  // this call), or an empty group when the call waits.
  std::vector<Call> submit(Call call, std::size_t entries) {
    std::lock_guard lock(mutex_);
    if (in_flight_ < max_in_flight_) {
      ++in_flight_;
      std::vector<Call> group;
      group.push_back(std::move(call));
      return group;
    }
    waiting_.push_back({std::move(call), entries});
    return {};
  }

  // A group finished. Returns the next group to send (the longest run of
  // waiting calls within max_entries, at least one), or an empty group.
  std::vector<Call> finished() {
    std::lock_guard lock(mutex_);
    std::vector<Call> group;
    std::size_t entries = 0, taken = 0;
    while (taken < waiting_.size() &&
           (taken == 0 || entries + waiting_[taken].entries <= max_entries_)) {
      entries += waiting_[taken].entries;
      group.push_back(std::move(waiting_[taken].call));
      ++taken;
    }
    waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<std::ptrdiff_t>(taken));
    if (group.empty()) --in_flight_;
    return group;
  }

 private:
  struct Waiting {
    Call call;
    std::size_t entries;
  };
  std::mutex mutex_;
  const int max_in_flight_;
  const std::size_t max_entries_;
  int in_flight_ = 0;
  std::vector<Waiting> waiting_;
};

}  // namespace distkit::detail::instance_aware
