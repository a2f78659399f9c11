// Decoding of the counters' replies into values and Errors.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "client/reply.hpp"
#include "distkit/redis_key.hpp"

namespace distkit::detail {

// Throws Error{Errc::redis} carrying Redis's message when `reply` is an
// error. Script errors "OVERFLOW <i>" and "NOTINT <i>" (1-based entry index)
// become Errc::overflow / Errc::redis naming keys[i-1] of `hash`.
void throw_if_error(const Reply& reply, std::string_view hash, std::span<const RedisKey> keys);

// Throws for an error reply of a plain command on `key` of `hash`: HINCRBY's
// overflow becomes Errc::overflow, a non-integer field Errc::redis naming
// the key, anything else Errc::redis carrying Redis's message.
void throw_if_command_error(const Reply& reply, std::string_view hash, const RedisKey& key);

// A field's value: nil is 0, a canonical decimal int64 its value; anything
// else throws Error{Errc::redis} naming `key`.
std::int64_t field_value(const Reply& reply, std::string_view hash, const RedisKey& key);

// The elements of an array reply of exactly `size` elements; else throws
// Error{Errc::redis}.
const std::vector<Reply>& array_of(const Reply& reply, std::size_t size);

// A status/string element holding "1" or "0".
bool flag(const Reply& reply);

// Throws the Errc::redis error for a reply the scripts never produce.
[[noreturn]] void unexpected_reply(std::string_view what);

}  // namespace distkit::detail
