// Reply values for the unit tests of the sans-IO protocol code.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "client/reply.hpp"

namespace distkit::detail::test_replies {

inline Reply text_reply(Reply::Kind kind, std::string text) {
  Reply reply;
  reply.kind = kind;
  reply.text = std::move(text);
  return reply;
}
inline Reply status(std::string text) {
  return text_reply(Reply::Kind::status, std::move(text));
}
inline Reply error_reply(std::string text) {
  return text_reply(Reply::Kind::error, std::move(text));
}
inline Reply bulk(std::string text) {
  return text_reply(Reply::Kind::string, std::move(text));
}
inline Reply array(std::vector<Reply> elements) {
  Reply reply;
  reply.kind = Reply::Kind::array;
  reply.elements = std::move(elements);
  return reply;
}

}  // namespace distkit::detail::test_replies
