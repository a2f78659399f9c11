// N concurrent callers on one Client without N threads: asynchronous
// operations kept in flight by their own completion handlers.
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>

namespace distkit::tools {

// Calls it exactly once with the operation's outcome.
using Completion = std::function<void(boost::system::error_code)>;
// Starts operation number `index` (0-based); `done` must be called once it
// finished.
using OperationStarter = std::function<void(int index, Completion done)>;

// Runs `total` operations, starting a new one as each finishes so that
// `depth` are in flight until the last ones drain. Returns the wall time from
// the first start to the last completion. After a failure no new operation
// starts; once the started ones are done, the first failure is thrown as a
// boost::system::system_error.
std::chrono::duration<double> run_in_flight(int depth, int total, const OperationStarter& start);

}  // namespace distkit::tools
