// The counters' Lua scripts. (The names of their Redis keys are
// ShardLayout's.)
#pragma once

#include <string>
#include <string_view>

#include "client/script.hpp"
#include "distkit/comparator.hpp"

namespace distkit::detail {

// The StrictCounter's scripts of the same name in src/counters/lua/, which
// document their KEYS, ARGV and reply, each preceded by the helper files it
// uses (strict_int64.lua, strict_order.lua, strict_inverse.lua).
const Script& strict_inc_if_script();
const Script& strict_update_if_script();
const Script& strict_inc_all_script();
const Script& strict_dec_min_script();
const Script& strict_del_script();

// Each is the prelude followed by the script of the same name in
// src/counters/lua/, which documents its KEYS, ARGV and reply.
const Script& lax_flush_script();
const Script& lax_override_script();
// The instance-aware counters' scripts: prelude, instance_common, then the
// script of the same name.
const Script& instance_update_script();
const Script& instance_clear_script();
const Script& instance_clear_on_instance_script();
const Script& instance_lax_flush_script();

// The scripts' spelling of a comparator: "eq", "ne", "lt", "gt", "le", "ge"
// or "nil".
std::string_view lua_operator(CounterComparator::Kind kind) noexcept;

// strict_inc_if.lua's and strict_update_if.lua's spelling of a comparator: '1' where it accepts a
// value below, equal to, above its operand ("100" for lt, "111" for nil).
std::string_view strict_accepted_orders(CounterComparator::Kind kind) noexcept;

}  // namespace distkit::detail
