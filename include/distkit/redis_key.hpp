// RedisKey: a validated key or prefix.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace distkit {

// A key of a counter, or the prefix of a counter's Redis keys.
//
// Valid: non-empty, at most 255 bytes, and no ':' (the separator of distkit's
// Redis key layout). Every other byte is allowed (spaces, UTF-8, '{', '}',
// NUL, binary) and reaches Redis unchanged.
//
// Immutable once constructed; safe to share between threads.
class RedisKey {
 public:
  static constexpr std::size_t max_size = 255;

  // Takes `value` as is. Throws Error{Errc::invalid_key} when it is empty,
  // longer than max_size bytes or contains ':'.
  explicit RedisKey(std::string value);

  // Removes every ':' from `value`, then validates the rest as the
  // constructor does (so an empty or too long result still throws).
  static RedisKey sanitize(std::string value);

  // The key's bytes, exactly as given.
  const std::string& str() const noexcept { return value_; }

  friend bool operator==(const RedisKey&, const RedisKey&) = default;
  friend auto operator<=>(const RedisKey&, const RedisKey&) = default;

 private:
  std::string value_;
};

}  // namespace distkit

template <>
struct std::hash<distkit::RedisKey> {
  std::size_t operator()(const distkit::RedisKey& key) const noexcept {
    return std::hash<std::string_view>{}(key.str());
  }
};
