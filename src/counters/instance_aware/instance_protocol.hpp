// The instance-aware counters' Redis protocol, sans-IO: the names of their
// keys, the script requests of each call and the decoding of the replies.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "client/reply.hpp"
#include "client/request.hpp"
#include "distkit/comparator.hpp"
#include "distkit/instance_aware_counter.hpp"
#include "distkit/redis_key.hpp"

namespace distkit::detail::instance_aware {

// The two layouts, named as the Rust distkit names them: its
// StrictInstanceAwareCounter keeps `<prefix>:instance_aware_counter:*`, the
// strict backend of its LaxInstanceAwareCounter
// `<prefix>:lax_instance_aware_counter:*`, so that a strict and a lax
// counter on one prefix are two counters. distkit C++ does the same, so that
// each shares its keys with the Rust counter of its kind.
enum class Kind { strict, lax };

// "instance_aware_counter" or "lax_instance_aware_counter".
std::string_view kind_name(Kind kind) noexcept;

// The Redis keys of one counter, C = `<prefix>:<kind_name(kind)>`.
struct Layout {
  Layout(const RedisKey& prefix, Kind kind);
  std::string epoch;       // C:epoch
  std::string instances;   // C:instances
  std::string cumulative;  // C:cumulative
  std::string keys;        // C:keys
  // C:count:<instance_id>
  std::string count(std::string_view instance_id) const;
  // C:slice_epoch:<instance_id>: the epoch of each key under which the
  // instance's slice was written (distkit C++ only; see instance_common.lua).
  std::string slice_epoch(std::string_view instance_id) const;
  // C:flushed:<instance_id>: the number of the last flush chunk a lax
  // instance applied (distkit C++ only; see lax_instance_layout.hpp).
  std::string flushed(std::string_view instance_id) const;
  // C:set_aside: the lax deltas Redis could never take (distkit C++ only).
  std::string set_aside() const;

 private:
  std::string with_suffix(std::string_view suffix, std::string_view instance_id = {}) const;
  std::string base_;
};

// The number of KEYS every instance script starts with.
inline constexpr std::size_t common_keys = 6;

// Adds KEYS[1..6] of every instance script (see instance_common.lua): the
// four shared keys, then instance `me`'s count and slice_epoch hashes.
void add_common_keys(RequestBuilder& builder, const Layout& layout, const std::string& me);

// One entry of a call to the update script (instance_update.lua).
enum class Mode { get, inc, set, set_on_instance, del, del_on_instance };

struct Entry {
  Mode mode;
  RedisKey key;
  CounterComparator comparator;
  std::int64_t count;
};

// Set/del reset every instance's slice, so they declare every count hash.
bool is_global(Mode mode) noexcept;

// Which script a call runs.
enum class Script { update, clear, clear_on_instance };

// Everything one script invocation needs.
struct Call {
  Script script = Script::update;
  std::vector<Entry> entries;
  // Read the values before each entry even for an unconditional inc.
  bool want_previous = false;
};

// What a call learnt about the other instances in earlier attempts.
struct Attempt {
  std::vector<std::string> dead;    // to remove in this attempt
  std::vector<std::string> others;  // every other instance, for global writes and clear
};

// A decoded reply: the results, or the instances to declare in a new
// attempt (nothing was changed but the heartbeat), or `removing`: this
// instance had been declared dead and the call removed up to 1,000 of its
// remaining slices instead (call again; see finish_own_removal in
// instance_common.lua).
struct Verdict {
  enum class Kind { done, dead, instances, removing };
  Kind kind = Kind::done;
  std::vector<std::string> ids;
  std::vector<InstanceUpdateResult> results;  // one per entry when done
};

// The whole set of instances is needed (global writes, clear).
bool needs_others(const Call& call) noexcept;

Request make_request(const Call& call, const Attempt& attempt, const Layout& layout,
                     const std::string& instance_id, std::chrono::milliseconds threshold);

// Throws Error for error replies: Errc::overflow / Errc::redis naming the
// entry's key, Errc::redis otherwise.
Verdict parse_reply(const Call& call, const Layout& layout, const Reply& reply);

}  // namespace distkit::detail::instance_aware
