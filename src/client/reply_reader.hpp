// Incremental RESP decoding: bytes in, Reply trees out (hiredis's parser).
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "client/reply.hpp"

namespace distkit::detail {

// Wraps a hiredis redisReader whose object callbacks build Reply values
// directly. Sans-IO: feed() whatever the socket produced, then call next()
// until it returns nothing. Not thread-safe.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  void feed(std::string_view bytes);

  // The next complete reply, or nullopt when more bytes are needed.
  // Throws Error{Errc::connection} on a protocol error; the reader is then
  // unusable and the connection must be reset (construct a new reader).
  std::optional<Reply> next();

  // Bytes the reader's buffer holds allocated (for tests of its shrinking).
  std::size_t buffer_capacity() const noexcept;

 private:
  struct Deleter {
    void operator()(void* reader) const noexcept;
  };
  // Declared before reader_, whose object callbacks use it until the end.
  std::unique_ptr<Reply> spare_root_;  // the last reply's root, for the next
  std::unique_ptr<void, Deleter> reader_;
};

}  // namespace distkit::detail
