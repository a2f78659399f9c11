// The Lua sources of the counters' scripts, embedded at build time from
// src/counters/lua/. The LaxCounter's scripts are sent as `prelude` followed
// by their body; the StrictCounter's are composed in scripts.cpp.
#pragma once

#include <string_view>

namespace distkit::detail::lua {
extern const std::string_view prelude;
extern const std::string_view strict_int64;
extern const std::string_view strict_order;
extern const std::string_view strict_inverse;
extern const std::string_view strict_inc_if;
extern const std::string_view strict_update_if;
extern const std::string_view strict_inc_all;
extern const std::string_view strict_dec_min;
extern const std::string_view strict_del;
extern const std::string_view lax_flush;
extern const std::string_view lax_override;
extern const std::string_view instance_common;
extern const std::string_view instance_update;
extern const std::string_view instance_clear;
extern const std::string_view instance_clear_on_instance;
extern const std::string_view instance_lax_flush;
}  // namespace distkit::detail::lua
