// The tool's side of the instance-aware counters: get/inc/dec/set/del/clear
// with --instance-aware, and `distkit instances`.
#pragma once

#include <cstdint>
#include <string_view>

#include "global_options.hpp"

namespace CLI {
class App;
}

namespace distkit {
class RedisKey;
}

namespace distkit::tools {

// Runs operator command `command` (get, inc, dec, set, del) on the
// StrictInstanceAwareCounter of the global options (with --lax the
// LaxInstanceAwareCounter, a counter of its own) and prints the
// cumulative and this process's slice. The tool is an instance of its own
// that ends with the command: a slice it adds (inc, dec) is removed once
// the dead-instance threshold has passed, as any dead process's is.
int run_instance_single_key(const GlobalOptions& options, std::string_view command,
                            const RedisKey& key, std::int64_t amount);

// clear() of the instance-aware counter: every instance's slices.
int run_instance_clear(const GlobalOptions& options);

// Registers `instances`: the instances of the counter with their last
// heartbeat, age and number of slices; of the strict instance-aware counter
// (`<prefix>:instance_aware_counter`), or with --lax of the lax one
// (`<prefix>:lax_instance_aware_counter`).
void add_instance_commands(CLI::App& app, const GlobalOptions& options, int& exit_code);

}  // namespace distkit::tools
