// Holding back a Redis Cluster slot's new calls while its order is in
// doubt (sans-IO).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "client/request.hpp"
#include "client/request_queue.hpp"

namespace distkit::detail {

// When a slot changes hands, calls of it may still be on their way at the
// old owner; they come back redirected and are sent on to the new one. A
// call issued meanwhile must not go straight to the new owner ahead of
// them. So the cluster client closes the slot's gate, puts a fence for the
// slot on the old owner's connection (which passes once the slot's calls
// sent there before have come back and been sent on), and holds the slot's
// new calls here until every fence closing the gate has passed; then they
// go out, in issue order, behind the redirected ones.
//
// Only the bookkeeping: which slots are closed by how many fences, the
// held calls in order, and their deadlines. Not thread-safe.
class SlotGate {
 public:
  using clock = std::chrono::steady_clock;

  struct Held {
    Request request;
    ReplyCallback done;
    clock::time_point deadline;
  };

  // Closes `slot` until one more fence passes (fence_passed).
  void close(std::int32_t slot);

  bool is_closed(std::int32_t slot) const { return slots_.contains(slot); }

  // Holds a call of a closed slot, behind the ones held before.
  void hold(std::int32_t slot, Held call);

  // The held calls of a slot that opened, each list in issue order.
  struct Released {
    std::vector<Held> send;     // to be sent on now
    std::vector<Held> expired;  // deadline at or before `now`: fail unsent
  };

  // One fence closing `slot` passed. When it was the last one the slot
  // opens and its held calls are returned. A call whose deadline passed is
  // never sent: sent late, it could run after its caller was told timeout.
  Released fence_passed(std::int32_t slot, clock::time_point now);

  // Removes and returns the held calls whose deadline is at or before
  // `now` (their slots stay closed).
  std::vector<Held> expire(clock::time_point now);

  // The earliest deadline of a held call.
  std::optional<clock::time_point> next_deadline() const;

  // Removes and returns every held call, opening every slot.
  std::vector<Held> take_all();

  std::size_t held() const noexcept { return held_; }

 private:
  struct Closed {
    int fences = 0;
    std::vector<Held> held;
  };

  std::unordered_map<std::int32_t, Closed> slots_;
  std::size_t held_ = 0;
};

}  // namespace distkit::detail
