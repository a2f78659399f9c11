#include "distkit/instance_aware_counter.hpp"

namespace distkit {

InstanceAwareCounter::~InstanceAwareCounter() = default;

}  // namespace distkit
