#include "counters/scripts.hpp"

#include "counters/lua_sources.hpp"

namespace distkit::detail {
namespace {

Script with_prelude(std::string_view body) {
  std::string text(lua::prelude);
  text += '\n';
  text += body;
  return Script(std::move(text));
}

Script with_instance_common(std::string_view body) {
  std::string text(lua::instance_common);
  text += '\n';
  text += body;
  return with_prelude(text);
}

}  // namespace

const Script& strict_update_script() {
  static const Script script = with_prelude(lua::strict_update);
  return script;
}

const Script& strict_del_script() {
  static const Script script = with_prelude(lua::strict_del);
  return script;
}

const Script& lax_flush_script() {
  static const Script script = with_prelude(lua::lax_flush);
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

std::string strict_hash_key(const RedisKey& prefix) {
  return prefix.str() + ":strict_counter";
}

std::string lax_hash_key(const RedisKey& prefix) {
  return prefix.str() + ":lax_counter";
}

std::string lax_flush_record_key(const RedisKey& prefix) {
  return "{" + prefix.str() + ":lax_counter}:flushed";
}

}  // namespace distkit::detail
