// LaxInstanceAwareCounter: the instance-aware counter with LaxCounter's
// buffered increments.
//
// NOT IMPLEMENTED YET: this header states the contract; the library does not
// build the class yet and <distkit/distkit.hpp> does not include it. It is to
// be a thin layer over LaxCounter's buffering, flushing and exactly-once
// machinery once that is a reusable component (see README).
#pragma once

#include <memory>

#include "distkit/instance_aware_counter.hpp"

namespace distkit {

// inc/dec (and inc_if, inc_all, inc_all_if) apply to an in-process buffer and
// return at once; a background flusher sends the pending deltas to this
// instance's slices every allowed_lag, exactly once. get/get_all return the
// last known pair plus the pending delta, refreshed after allowed_lag. Global
// writes (set, del, clear) and on-instance writes act on Redis at once,
// overriding this instance's pending delta for those keys. The layout is
// StrictInstanceAwareCounter's.
class LaxInstanceAwareCounter : public InstanceAwareCounter {
 public:
  static std::shared_ptr<LaxInstanceAwareCounter> create(InstanceAwareCounterOptions options);
  // Returns once every increment accepted before the call is in Redis.
  void flush();
  // Drains the buffer with a bounded wait, as LaxCounter's destructor.
  ~LaxInstanceAwareCounter() override;
};

}  // namespace distkit
