// Library-internal: StrictInstanceAwareCounter's calls with their whole
// outcome, the error's message included (the public async forms carry only
// an error_code). LaxInstanceAwareCounter's immediate calls and reads are
// these calls.
#pragma once

#include <vector>

#include "counters/instance_aware/instance_protocol.hpp"
#include "counters/operation.hpp"
#include "distkit/strict_instance_aware_counter.hpp"

namespace distkit::detail::instance_aware {

struct StrictAccess {
  // Runs `call` on `counter` and hands `done` one result per entry (none
  // for clear and clear_on_instance), or the error with its message.
  static void run(StrictInstanceAwareCounter& counter, Call call,
                  OutcomeCallback<std::vector<InstanceUpdateResult>> done);
};

}  // namespace distkit::detail::instance_aware
