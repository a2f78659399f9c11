#include "client/slot_gate.hpp"

#include <algorithm>
#include <iterator>

namespace distkit::detail {

void SlotGate::close(std::int32_t slot) {
  ++slots_[slot].fences;
}

void SlotGate::hold(std::int32_t slot, Held call) {
  slots_.at(slot).held.push_back(std::move(call));
  ++held_;
}

SlotGate::Released SlotGate::fence_passed(std::int32_t slot, clock::time_point now) {
  const auto it = slots_.find(slot);
  if (it == slots_.end() || --it->second.fences > 0) return {};
  Released released;
  for (Held& call : it->second.held) {
    (call.deadline > now ? released.send : released.expired).push_back(std::move(call));
  }
  held_ -= it->second.held.size();
  slots_.erase(it);
  return released;
}

std::vector<SlotGate::Held> SlotGate::expire(clock::time_point now) {
  std::vector<Held> expired;
  for (auto& [slot, closed] : slots_) {
    auto& held = closed.held;
    const auto kept = std::stable_partition(
        held.begin(), held.end(), [now](const Held& call) { return call.deadline > now; });
    expired.insert(expired.end(), std::make_move_iterator(kept),
                   std::make_move_iterator(held.end()));
    held.erase(kept, held.end());
  }
  held_ -= expired.size();
  return expired;
}

std::optional<SlotGate::clock::time_point> SlotGate::next_deadline() const {
  std::optional<clock::time_point> earliest;
  for (const auto& [slot, closed] : slots_) {
    for (const Held& call : closed.held) {
      if (!earliest || call.deadline < *earliest) earliest = call.deadline;
    }
  }
  return earliest;
}

std::vector<SlotGate::Held> SlotGate::take_all() {
  std::vector<Held> all;
  for (auto& [slot, closed] : slots_) {
    all.insert(all.end(), std::make_move_iterator(closed.held.begin()),
               std::make_move_iterator(closed.held.end()));
  }
  slots_.clear();
  held_ = 0;
  return all;
}

}  // namespace distkit::detail
