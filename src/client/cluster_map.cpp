#include "client/cluster_map.hpp"

#include <algorithm>
#include <charconv>

#include "client/cluster_slot.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

[[noreturn]] void malformed(std::string_view what) {
  throw Error(Errc::redis, "unexpected CLUSTER SLOTS reply: " + std::string(what));
}

std::int64_t integer_in(const Reply& reply, std::int64_t low, std::int64_t high,
                        std::string_view what) {
  if (reply.kind != Reply::Kind::integer || reply.integer < low || reply.integer > high) {
    malformed(std::string(what) + " is not an integer in " + std::to_string(low) + ".." +
              std::to_string(high));
  }
  return reply.integer;
}

HostPort node_of(const Reply& node, const HostPort& asked) {
  if (node.kind != Reply::Kind::array || node.elements.size() < 2 ||
      node.elements[0].kind != Reply::Kind::string) {
    malformed("a node is not [host, port, ...]");
  }
  HostPort result;
  result.host = node.elements[0].text.empty() ? asked.host : node.elements[0].text;
  result.port = static_cast<std::uint16_t>(integer_in(node.elements[1], 1, 65535, "a node's port"));
  if (result.host == "?") malformed("a node's endpoint is unknown ('?')");
  return result;
}

}  // namespace

std::vector<HostPort> SlotMap::masters() const {
  std::vector<HostPort> result;
  for (const SlotRange& range : ranges) {
    if (std::find(result.begin(), result.end(), range.master) == result.end()) {
      result.push_back(range.master);
    }
  }
  return result;
}

bool SlotMap::is_master(const HostPort& node) const {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const SlotRange& range) { return range.master == node; });
}

const HostPort* SlotMap::master_of(std::uint16_t slot) const {
  for (const SlotRange& range : ranges) {
    if (range.first <= slot && slot <= range.last) return &range.master;
  }
  return nullptr;
}

SlotMap parse_cluster_slots(const Reply& reply, const HostPort& asked) {
  if (reply.is_error()) throw Error(Errc::redis, "CLUSTER SLOTS failed: " + reply.text);
  if (reply.kind != Reply::Kind::array) malformed("not an array");
  SlotMap map;
  for (const Reply& entry : reply.elements) {
    if (entry.kind != Reply::Kind::array || entry.elements.size() < 3) {
      malformed("a range is not [first, last, master, replicas...]");
    }
    SlotRange range;
    constexpr std::int64_t last_slot = cluster_slot_count - 1;
    range.first = static_cast<std::uint16_t>(integer_in(entry.elements[0], 0, last_slot, "a slot"));
    range.last = static_cast<std::uint16_t>(integer_in(entry.elements[1], 0, last_slot, "a slot"));
    if (range.last < range.first) malformed("a range ends before it starts");
    range.master = node_of(entry.elements[2], asked);
    for (std::size_t i = 3; i < entry.elements.size(); ++i) {
      range.replicas.push_back(node_of(entry.elements[i], asked));
    }
    map.ranges.push_back(std::move(range));
  }
  return map;
}

std::optional<Redirect> parse_redirect(const Reply& reply, const HostPort& from) {
  Redirect redirect;
  if (reply.is_error_code("MOVED")) {
    redirect.kind = Redirect::Kind::moved;
  } else if (reply.is_error_code("ASK")) {
    redirect.kind = Redirect::Kind::ask;
  } else {
    return std::nullopt;
  }
  // "<CODE> <slot> <host>:<port>"; an IPv6 host holds ':' itself, so the
  // port follows the last one.
  const std::string_view text = reply.text;
  const auto slot_begin = text.find(' ');
  const auto target_begin = text.find(' ', slot_begin + 1);
  if (target_begin == std::string_view::npos) return std::nullopt;
  const std::string_view slot = text.substr(slot_begin + 1, target_begin - slot_begin - 1);
  const std::string_view target = text.substr(target_begin + 1);
  const auto colon = target.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view port = target.substr(colon + 1);
  unsigned slot_value = 0;
  unsigned port_value = 0;
  const auto slot_parsed = std::from_chars(slot.data(), slot.data() + slot.size(), slot_value);
  const auto port_parsed = std::from_chars(port.data(), port.data() + port.size(), port_value);
  if (slot.empty() || slot_parsed.ptr != slot.data() + slot.size() ||
      slot_value >= cluster_slot_count || port.empty() ||
      port_parsed.ptr != port.data() + port.size() || port_value == 0 || port_value > 65535) {
    return std::nullopt;
  }
  redirect.slot = static_cast<std::uint16_t>(slot_value);
  redirect.target.host = colon == 0 ? from.host : std::string(target.substr(0, colon));
  redirect.target.port = static_cast<std::uint16_t>(port_value);
  return redirect;
}

}  // namespace distkit::detail
