// A Lua script known by its body and SHA1 digest.
#pragma once

#include <string>

namespace distkit::detail {

// Immutable after construction; referenced by pointer from requests, so
// scripts live in static storage.
class Script {
 public:
  explicit Script(std::string body);

  const std::string& body() const noexcept { return body_; }
  // Lower-case hex SHA1 of the body: the name EVALSHA knows it by.
  const std::string& sha1() const noexcept { return sha1_; }

 private:
  std::string body_;
  std::string sha1_;
};

}  // namespace distkit::detail
