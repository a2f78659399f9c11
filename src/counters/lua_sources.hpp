// The Lua sources of the counters' scripts, embedded at build time from
// src/counters/lua/. Every script is sent as `prelude` followed by its body.
#pragma once

#include <string_view>

namespace distkit::detail::lua {
extern const std::string_view prelude;
extern const std::string_view strict_update;
extern const std::string_view strict_del;
extern const std::string_view lax_flush;
extern const std::string_view lax_override;
extern const std::string_view instance_common;
extern const std::string_view instance_update;
extern const std::string_view instance_clear;
extern const std::string_view instance_clear_on_instance;
extern const std::string_view instance_lax_flush;
}  // namespace distkit::detail::lua
