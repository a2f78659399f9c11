// Library-internal: StrictInstanceAwareCounter's calls with their whole
// outcome, the error's message included (the public async forms carry only
// an error_code), and its creation on either layout.
// LaxInstanceAwareCounter's immediate calls, reads and heartbeats are those
// of a strict counter on the lax layout (as the Rust distkit's lax counter
// runs on a strict one created with the lax key type).
#pragma once

#include <memory>
#include <vector>

#include "counters/instance_aware/instance_protocol.hpp"
#include "counters/operation.hpp"
#include "distkit/strict_instance_aware_counter.hpp"

namespace distkit::detail::instance_aware {

struct StrictAccess {
  // StrictInstanceAwareCounter::create on the layout of `kind`.
  static std::shared_ptr<StrictInstanceAwareCounter> create(InstanceAwareCounterOptions options,
                                                            Kind kind);
  // Runs `call` on `counter` and hands `done` one result per entry (none
  // for clear and clear_on_instance), or the error with its message.
  static void run(StrictInstanceAwareCounter& counter, Call call,
                  OutcomeCallback<std::vector<InstanceUpdateResult>> done);
};

}  // namespace distkit::detail::instance_aware
