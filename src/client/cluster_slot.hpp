// Redis Cluster key slots (sans-IO).
#pragma once

#include <cstdint>
#include <string_view>

namespace distkit::detail {

// Redis Cluster has this many hash slots.
inline constexpr std::uint16_t cluster_slot_count = 16384;

// The slot of `key` as Redis Cluster computes it: CRC16 (XMODEM) of the
// key's hash tag, modulo 16384. The hash tag is what lies between the first
// '{' and the first '}' after it, when that is not empty; otherwise the
// whole key is hashed.
std::uint16_t cluster_key_slot(std::string_view key) noexcept;

// The part of `key` that cluster_key_slot hashes.
std::string_view cluster_hash_tag(std::string_view key) noexcept;

}  // namespace distkit::detail
