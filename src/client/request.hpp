// RESP encoding of commands (sans-IO).
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace distkit::detail {

class Script;

// One encoded command. A script call is kept as a head naming the script
// (EVALSHA <sha>) and a tail holding numkeys, keys and arguments, so that it
// can be re-sent as EVAL <body> after NOSCRIPT without re-encoding the
// arguments.
//
// Head and tail share one buffer, inline up to a typical counter call's
// size: building a request allocates nothing on the usual path.
class Request {
 public:
  // The bytes to write: head() followed by tail().
  std::string_view head() const noexcept {
    return {bytes_.data() + head_begin_, tail_begin_ - head_begin_};
  }
  std::string_view tail() const noexcept {
    return {bytes_.data() + tail_begin_, bytes_.size() - tail_begin_};
  }
  std::size_t size() const noexcept { return bytes_.size() - head_begin_; }

  // The script of an EVALSHA request, nullptr for other commands.
  const Script* script() const noexcept { return script_; }
  bool uses_eval() const noexcept { return uses_eval_; }

  // The Redis Cluster slot of the request's keys (those passed to key(), and
  // a script's KEYS): no_keys when it has none, cross_slot when they do not
  // share one slot. Computed on each call, from the keys' places in tail():
  // only a cluster client asks, so other clients never pay for CRC16.
  static constexpr std::int32_t no_keys = -1;
  static constexpr std::int32_t cross_slot = -2;
  std::int32_t slot() const noexcept;

  // Rewrites an EVALSHA request as EVAL with the script's body (which also
  // loads the script into Redis's cache). Requires script() != nullptr.
  void switch_to_eval();

 private:
  friend class RequestBuilder;
  using Bytes = boost::container::small_vector<char, 192>;
  // [head_begin_, tail_begin_) is the head, [tail_begin_, end) the tail;
  // the bytes before head_begin_ are unused room the builder reserved for
  // the argument count, whose length is known only at the end.
  Bytes bytes_;
  std::size_t head_begin_ = 0;
  std::size_t tail_begin_ = 0;
  std::size_t tail_arguments_ = 0;
  const Script* script_ = nullptr;
  bool uses_eval_ = false;
  // Each key's bytes, as an offset into tail() (which switch_to_eval keeps)
  // and a size. Three fit inline: a counter's hash and its auxiliary keys.
  struct KeySpan {
    std::uint32_t offset;
    std::uint32_t size;
  };
  boost::container::small_vector<KeySpan, 3> keys_;
};

// Builds a Request argument by argument:
//   Request r = RequestBuilder("HGET").key(hash).arg(field).build();
//   Request s = RequestBuilder(script, 1).arg(hash).arg(std::int64_t{5}).build();
// Every key a command touches goes in by key() (a script's first num_keys
// arguments are its keys by themselves), so that Redis Cluster can route it.
class RequestBuilder {
 public:
  // A command named `command` (further words of the name go in arg()).
  explicit RequestBuilder(std::string_view command);
  // EVALSHA of `script`; the first `num_keys` arguments are its KEYS.
  RequestBuilder(const Script& script, std::size_t num_keys);

  RequestBuilder& arg(std::string_view value);
  RequestBuilder& arg(std::int64_t value);
  // An argument that names a key.
  RequestBuilder& key(std::string_view value);

  // Finishes the request; the builder is not to be used afterwards.
  Request build();

 private:
  Request request_;
  std::size_t script_keys_left_ = 0;
};

}  // namespace distkit::detail
