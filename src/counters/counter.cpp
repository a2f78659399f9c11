#include "distkit/counter.hpp"

namespace distkit {

Counter::~Counter() = default;

}  // namespace distkit
