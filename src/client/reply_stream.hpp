// A short conversation with one server outside the pipelined connection:
// asking a sentinel, or listening to its announcements.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "client/reply.hpp"
#include "client/transport.hpp"
#include "client/unique_function.hpp"

namespace distkit::detail {

class ReplyStream {
 public:
  // Receives each reply in order; returning false ends the conversation.
  using OnReply = UniqueFunction<bool(Reply)>;
  // Runs once at the end: "" when on_reply ended it, else why it failed.
  using OnEnd = UniqueFunction<void(std::string failure)>;

  struct Settings {
    ServerAddress address;
    std::shared_ptr<const TlsContext> tls;
    std::string bytes;  // written once connected
    // The first `deadline_replies` replies must arrive within `timeout`;
    // after them the stream may stay open and quiet indefinitely.
    std::size_t deadline_replies;
    std::chrono::milliseconds timeout;
  };

  // Connects and writes on `strand`; every callback runs there.
  static std::shared_ptr<ReplyStream> start(const boost::asio::any_io_executor& strand,
                                            Settings settings, OnReply on_reply, OnEnd on_end);

  virtual ~ReplyStream() = default;

  // Ends the conversation without calling on_end. Idempotent.
  virtual void close() = 0;
};

}  // namespace distkit::detail
