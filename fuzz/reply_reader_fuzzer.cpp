// Any bytes from a "server": ReplyReader yields replies or throws
// distkit::Error with Errc::connection, and how the bytes are split across
// feed() calls changes nothing. The first input byte picks the chunk size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "client/reply_reader.hpp"
#include "distkit/error.hpp"

namespace {

using distkit::detail::Reply;
using distkit::detail::ReplyReader;

bool same(const Reply& a, const Reply& b) {
  if (a.kind != b.kind || a.integer != b.integer || a.text != b.text ||
      a.elements.size() != b.elements.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i) {
    if (!same(a.elements[i], b.elements[i])) return false;
  }
  return true;
}

struct Outcome {
  std::vector<Reply> replies;
  bool protocol_error = false;
};

// Feeds `bytes` in pieces of `chunk` bytes, taking every complete reply
// after each piece, until the end or a protocol error.
Outcome read_all(std::string_view bytes, std::size_t chunk) {
  Outcome outcome;
  ReplyReader reader;
  try {
    while (true) {
      const std::string_view piece = bytes.substr(0, chunk);
      bytes.remove_prefix(piece.size());
      reader.feed(piece);
      while (std::optional<Reply> reply = reader.next())
        outcome.replies.push_back(std::move(*reply));
      if (bytes.empty()) break;
    }
  } catch (const distkit::Error& e) {
    if (e.code() != distkit::Errc::connection) std::abort();
    outcome.protocol_error = true;
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 16;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = read_all(bytes, bytes.size() + 1);
  const Outcome pieces = read_all(bytes, chunk);
  if (whole.protocol_error != pieces.protocol_error ||
      whole.replies.size() != pieces.replies.size()) {
    std::abort();
  }
  for (std::size_t i = 0; i < whole.replies.size(); ++i) {
    if (!same(whole.replies[i], pieces.replies[i])) std::abort();
  }
  return 0;
}
