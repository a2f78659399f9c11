#include "distkit/redis_key.hpp"

#include <algorithm>

#include "distkit/error.hpp"

namespace distkit {

RedisKey::RedisKey(std::string value) : value_(std::move(value)) {
  if (value_.empty()) throw Error(Errc::invalid_key, "key is empty");
  if (value_.size() > max_size) {
    throw Error(Errc::invalid_key, "key is " + std::to_string(value_.size()) +
                                       " bytes long, the limit is " + std::to_string(max_size));
  }
  if (value_.find(':') != std::string::npos) {
    throw Error(Errc::invalid_key, "key contains ':'");
  }
}

RedisKey RedisKey::sanitize(std::string value) {
  std::erase(value, ':');
  return RedisKey(std::move(value));
}

}  // namespace distkit
