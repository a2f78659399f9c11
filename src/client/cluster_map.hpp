// The Redis Cluster topology as the client sees it, and the redirections
// that change it (sans-IO).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "client/reply.hpp"
#include "client/url.hpp"

namespace distkit::detail {

// Which master serves which slots, from a CLUSTER SLOTS reply.
struct SlotRange {
  std::uint16_t first = 0;  // inclusive
  std::uint16_t last = 0;   // inclusive
  HostPort master;
  std::vector<HostPort> replicas;
  friend bool operator==(const SlotRange&, const SlotRange&) = default;
};

struct SlotMap {
  std::vector<SlotRange> ranges;  // in the order Redis listed them

  // The distinct masters, in order of first appearance.
  std::vector<HostPort> masters() const;
  bool is_master(const HostPort& node) const;
  // The master serving `slot`, or nullptr when no range covers it.
  const HostPort* master_of(std::uint16_t slot) const;
};

// Parses a CLUSTER SLOTS reply: an array of [first, last, master, replica...]
// where each node is [host, port, ...]. A node listed with an empty host
// shares the host of `asked`, the node that answered. Throws
// Error{Errc::redis} for an error reply or a reply of another shape.
SlotMap parse_cluster_slots(const Reply& reply, const HostPort& asked);

// A redirection Redis Cluster answered instead of running a command.
struct Redirect {
  enum class Kind {
    moved,  // the slot lives on `target` now: update the map, send it there
    ask,    // the slot is migrating: send ASKING and the command to `target`, once
  };
  Kind kind = Kind::moved;
  std::uint16_t slot = 0;
  HostPort target;
  friend bool operator==(const Redirect&, const Redirect&) = default;
};

// The redirection `reply` carries ("MOVED <slot> <host>:<port>" or
// "ASK <slot> <host>:<port>"), or nullopt for any other reply. An empty
// host means the host of `from`, the node that answered.
std::optional<Redirect> parse_redirect(const Reply& reply, const HostPort& from);

}  // namespace distkit::detail
