#include "counters/scripts.hpp"

#include <initializer_list>

#include "counters/lua_sources.hpp"

namespace distkit::detail {
namespace {

// The parts joined by newlines. The StrictCounter's scripts and the lax
// flush carry only the helpers they use, not the whole prelude: Redis runs
// every definition on every call.
Script composed(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (const std::string_view part : parts) {
    if (!text.empty()) text += '\n';
    text += part;
  }
  return Script(std::move(text));
}

// The prelude builds on the strict scripts' is_int64 and order.
Script with_prelude(std::string_view body) {
  return composed({lua::strict_int64, lua::strict_order, lua::prelude, body});
}

Script with_instance_common(std::string_view body) {
  return composed({lua::strict_int64, lua::strict_order, lua::prelude, lua::instance_common, body});
}

}  // namespace

const Script& strict_inc_if_script() {
  static const Script script =
      composed({lua::strict_order, lua::strict_inverse, lua::strict_inc_if});
  return script;
}

const Script& strict_update_if_script() {
  static const Script script =
      composed({lua::strict_int64, lua::strict_order, lua::strict_update_if});
  return script;
}

const Script& strict_inc_all_script() {
  static const Script script = composed({lua::strict_inverse, lua::strict_inc_all});
  return script;
}

const Script& strict_dec_min_script() {
  static const Script script = composed({lua::strict_dec_min});
  return script;
}

const Script& strict_del_script() {
  static const Script script = composed({lua::strict_int64, lua::strict_del});
  return script;
}

const Script& lax_flush_script() {
  static const Script script = composed({lua::lax_flush});
  return script;
}

const Script& lax_override_script() {
  static const Script script = with_prelude(lua::lax_override);
  return script;
}

const Script& instance_update_script() {
  static const Script script = with_instance_common(lua::instance_update);
  return script;
}

const Script& instance_clear_script() {
  static const Script script = with_instance_common(lua::instance_clear);
  return script;
}

const Script& instance_clear_on_instance_script() {
  static const Script script = with_instance_common(lua::instance_clear_on_instance);
  return script;
}

const Script& instance_lax_flush_script() {
  static const Script script = with_instance_common(lua::instance_lax_flush);
  return script;
}

std::string_view lua_operator(CounterComparator::Kind kind) noexcept {
  using Kind = CounterComparator::Kind;
  switch (kind) {
    case Kind::eq:
      return "eq";
    case Kind::ne:
      return "ne";
    case Kind::lt:
      return "lt";
    case Kind::gt:
      return "gt";
    case Kind::le:
      return "le";
    case Kind::ge:
      return "ge";
    case Kind::nil:
      return "nil";
  }
  return "nil";
}

std::string_view strict_accepted_orders(CounterComparator::Kind kind) noexcept {
  using Kind = CounterComparator::Kind;
  switch (kind) {
    case Kind::eq:
      return "010";
    case Kind::ne:
      return "101";
    case Kind::lt:
      return "100";
    case Kind::gt:
      return "001";
    case Kind::le:
      return "110";
    case Kind::ge:
      return "011";
    case Kind::nil:
      return "111";
  }
  return "111";
}

}  // namespace distkit::detail
