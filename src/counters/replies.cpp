#include "counters/replies.hpp"

#include <charconv>
#include <string>

#include "counters/decimal.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

std::string describe(std::string_view hash, const RedisKey& key) {
  return "key '" + printable(key.str()) + "' of " + printable(hash);
}

[[noreturn]] void not_an_integer(std::string_view hash, const RedisKey& key) {
  throw Error(Errc::redis, "the value of " + describe(hash, key) + " is not a decimal int64");
}

[[noreturn]] void overflowed(std::string_view hash, const RedisKey& key) {
  throw Error(Errc::overflow, "the update of " + describe(hash, key) +
                                  " would leave the int64 range; nothing was changed");
}

// The entry a script error names, or nullptr.
const RedisKey* entry_of(std::string_view text, std::string_view code,
                         std::span<const RedisKey> keys) {
  if (!text.starts_with(code) || text.size() <= code.size() + 1) return nullptr;
  const std::string_view number = text.substr(code.size() + 1);
  std::size_t index = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), index);
  if (ec != std::errc{} || index == 0 || index > keys.size()) return nullptr;
  return &keys[index - 1];
}

}  // namespace

void throw_if_error(const Reply& reply, std::string_view hash, std::span<const RedisKey> keys) {
  if (!reply.is_error()) return;
  if (const RedisKey* key = entry_of(reply.text, "OVERFLOW", keys)) overflowed(hash, *key);
  if (const RedisKey* key = entry_of(reply.text, "NOTINT", keys)) not_an_integer(hash, *key);
  throw Error(Errc::redis, reply.text);
}

void throw_if_command_error(const Reply& reply, std::string_view hash, const RedisKey& key) {
  if (!reply.is_error()) return;
  // "ERR increment or decrement would overflow", "ERR hash value is not an
  // integer": HINCRBY refuses both before writing anything.
  if (reply.text.find("would overflow") != std::string::npos) {
    overflowed(hash, key);
  }
  if (reply.text.find("not an integer") != std::string::npos) not_an_integer(hash, key);
  throw Error(Errc::redis, reply.text);
}

std::int64_t field_value(const Reply& reply, std::string_view hash, const RedisKey& key) {
  if (reply.kind == Reply::Kind::nil) return 0;
  if (reply.kind != Reply::Kind::string && reply.kind != Reply::Kind::status) {
    unexpected_reply("a field value");
  }
  const auto value = parse_int64(reply.text);
  if (!value) not_an_integer(hash, key);
  return *value;
}

const std::vector<Reply>& array_of(const Reply& reply, std::size_t size) {
  if (reply.kind != Reply::Kind::array || reply.elements.size() != size) {
    unexpected_reply("an array of " + std::to_string(size) + " elements");
  }
  return reply.elements;
}

bool flag(const Reply& reply) {
  if (reply.text == "1") return true;
  if (reply.text == "0") return false;
  unexpected_reply("a 0/1 flag");
}

void unexpected_reply(std::string_view what) {
  throw Error(Errc::redis,
              "unexpected reply from Redis where " + std::string(what) + " was expected");
}

}  // namespace distkit::detail
