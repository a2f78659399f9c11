#include "counters/instance_aware/instance_protocol.hpp"

#include "counters/replies.hpp"
#include "counters/scripts.hpp"
#include "distkit/error.hpp"

namespace distkit::detail::instance_aware {
namespace {

std::string_view mode_name(Mode mode) noexcept {
  switch (mode) {
    case Mode::get:
      return "get";
    case Mode::inc:
      return "inc";
    case Mode::set:
      return "set";
    case Mode::set_on_instance:
      return "seti";
    case Mode::del:
      return "del";
    case Mode::del_on_instance:
      return "deli";
  }
  return "get";
}

std::vector<RedisKey> keys_of(const Call& call) {
  std::vector<RedisKey> keys;
  keys.reserve(call.entries.size());
  for (const Entry& entry : call.entries) keys.push_back(entry.key);
  return keys;
}

// A value of the reply; "" stands for one the script did not read.
std::int64_t value_at(const Reply& element, const Layout& layout, const RedisKey& key) {
  if (element.kind == Reply::Kind::string && element.text.empty()) return 0;
  return field_value(element, layout.cumulative, key);
}

// {'DEAD'|'INSTANCES', id...} or {'REMOVING'}; false for anything else.
bool retry_verdict(const Reply& reply, Verdict& verdict) {
  if (reply.kind != Reply::Kind::array || reply.elements.empty()) return false;
  const std::string& head = reply.elements.front().text;
  if (head == "DEAD") {
    verdict.kind = Verdict::Kind::dead;
  } else if (head == "INSTANCES") {
    verdict.kind = Verdict::Kind::instances;
  } else if (head == "REMOVING") {
    verdict.kind = Verdict::Kind::removing;
  } else {
    return false;
  }
  for (std::size_t i = 1; i < reply.elements.size(); ++i) {
    verdict.ids.push_back(reply.elements[i].text);
  }
  return true;
}

}  // namespace

void add_common_keys(RequestBuilder& builder, const Layout& layout, const std::string& me) {
  builder.arg(layout.epoch)
      .arg(layout.instances)
      .arg(layout.cumulative)
      .arg(layout.keys)
      .arg(layout.count(me))
      .arg(layout.slice_epoch(me));
}

std::string_view kind_name(Kind kind) noexcept {
  return kind == Kind::lax ? "lax_instance_aware_counter" : "instance_aware_counter";
}

Layout::Layout(const RedisKey& prefix, Kind kind)
    : base_(prefix.str() + ":" + std::string(kind_name(kind))) {
  epoch = with_suffix(":epoch");
  instances = with_suffix(":instances");
  cumulative = with_suffix(":cumulative");
  keys = with_suffix(":keys");
}

std::string Layout::with_suffix(std::string_view suffix, std::string_view instance_id) const {
  std::string key;
  key.reserve(base_.size() + suffix.size() + instance_id.size());
  key += base_;
  key += suffix;
  key += instance_id;
  return key;
}

std::string Layout::count(std::string_view instance_id) const {
  return with_suffix(":count:", instance_id);
}

std::string Layout::slice_epoch(std::string_view instance_id) const {
  return with_suffix(":slice_epoch:", instance_id);
}

std::string Layout::flushed(std::string_view instance_id) const {
  return with_suffix(":flushed:", instance_id);
}

std::string Layout::set_aside() const {
  return with_suffix(":set_aside");
}

bool is_global(Mode mode) noexcept {
  return mode == Mode::set || mode == Mode::del;
}

bool needs_others(const Call& call) noexcept {
  if (call.script == Script::clear) return true;
  if (call.script != Script::update) return false;
  for (const Entry& entry : call.entries) {
    if (is_global(entry.mode)) return true;
  }
  return false;
}

Request make_request(const Call& call, const Attempt& attempt, const Layout& layout,
                     const std::string& me, std::chrono::milliseconds threshold) {
  switch (call.script) {
    case Script::clear_on_instance: {
      RequestBuilder builder(instance_clear_on_instance_script(), common_keys);
      add_common_keys(builder, layout, me);
      return builder.arg(me).build();
    }
    case Script::clear: {
      RequestBuilder builder(instance_clear_script(), common_keys + 2 * attempt.others.size());
      add_common_keys(builder, layout, me);
      for (const std::string& id : attempt.others) {
        builder.arg(layout.count(id)).arg(layout.slice_epoch(id));
      }
      builder.arg(me).arg(static_cast<std::int64_t>(attempt.others.size()));
      for (const std::string& id : attempt.others) builder.arg(id);
      return builder.build();
    }
    case Script::update:
      break;
  }
  const bool global = needs_others(call);
  const std::size_t others = global ? attempt.others.size() : 0;
  RequestBuilder builder(instance_update_script(), common_keys + 2 * attempt.dead.size() + others);
  add_common_keys(builder, layout, me);
  for (const std::string& id : attempt.dead) {
    builder.arg(layout.count(id)).arg(layout.slice_epoch(id));
  }
  for (std::size_t i = 0; i < others; ++i) builder.arg(layout.count(attempt.others[i]));
  builder.arg(me)
      .arg(static_cast<std::int64_t>(threshold.count()))
      .arg(call.want_previous ? "1" : "0")
      .arg(static_cast<std::int64_t>(attempt.dead.size()))
      .arg(static_cast<std::int64_t>(others));
  for (const std::string& id : attempt.dead) builder.arg(id);
  for (std::size_t i = 0; i < others; ++i) builder.arg(attempt.others[i]);
  for (const Entry& entry : call.entries) {
    builder.arg(mode_name(entry.mode))
        .arg(entry.key.str())
        .arg(lua_operator(entry.comparator.kind()))
        .arg(entry.comparator.operand())
        .arg(entry.count);
  }
  return builder.build();
}

Verdict parse_reply(const Call& call, const Layout& layout, const Reply& reply) {
  Verdict verdict;
  if (call.script == Script::clear_on_instance && reply.is_error() &&
      reply.text.starts_with("OVERFLOW")) {
    throw Error(Errc::overflow, "removing this instance's slices would push a cumulative of " +
                                    layout.cumulative +
                                    " out of the int64 range; nothing was changed");
  }
  const std::vector<RedisKey> keys = keys_of(call);
  throw_if_error(reply, layout.cumulative, keys);
  if (retry_verdict(reply, verdict)) return verdict;
  if (call.script != Script::update) {
    if (reply.text != "OK") unexpected_reply("OK");
    return verdict;
  }
  const auto& elements = array_of(reply, keys.size() * 5);
  verdict.results.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Reply* e = &elements[5 * i];
    verdict.results.push_back({{value_at(e[0], layout, keys[i]), value_at(e[1], layout, keys[i])},
                               {value_at(e[2], layout, keys[i]), value_at(e[3], layout, keys[i])},
                               flag(e[4])});
  }
  return verdict;
}

}  // namespace distkit::detail::instance_aware
