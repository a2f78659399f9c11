#include "client/script.hpp"

#include <boost/uuid/detail/sha1.hpp>
#include <cstdio>

namespace distkit::detail {
namespace {

std::string hex_sha1(const std::string& text) {
  boost::uuids::detail::sha1 hash;
  hash.process_bytes(text.data(), text.size());
  boost::uuids::detail::sha1::digest_type digest;
  hash.get_digest(digest);
  std::string hex(40, '0');
  for (int word = 0; word < 5; ++word) {
    std::snprintf(hex.data() + word * 8, 9, "%08x", static_cast<unsigned>(digest[word]));
  }
  return hex;
}

}  // namespace

Script::Script(std::string body) : body_(std::move(body)), sha1_(hex_sha1(body_)) {}

}  // namespace distkit::detail
