#include "client/reply_stream.hpp"

#include <array>
#include <boost/asio/steady_timer.hpp>

#include "client/reply_reader.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

using boost::system::error_code;

class TransportReplyStream final : public ReplyStream,
                                   public std::enable_shared_from_this<TransportReplyStream> {
 public:
  TransportReplyStream(const boost::asio::any_io_executor& strand, Settings settings,
                       OnReply on_reply, OnEnd on_end)
      : settings_(std::move(settings)),
        transport_(make_transport(strand, settings_.address, settings_.tls)),
        timer_(strand),
        on_reply_(std::move(on_reply)),
        on_end_(std::move(on_end)) {}

  void run() {
    timer_.expires_after(settings_.timeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        self->end("no answer from " + self->settings_.address.describe() + " within " +
                  std::to_string(self->settings_.timeout.count()) + " ms");
      }
    });
    transport_->async_connect([self = shared_from_this()](std::string failure) {
      if (self->ended_) return;
      if (!failure.empty()) return self->end(self->settings_.address.describe() + ": " + failure);
      self->transport_->async_write(self->settings_.bytes, [self](error_code ec, std::size_t) {
        if (ec) self->end("write failed: " + ec.message());
      });
      self->read();
    });
  }

  void close() override {
    ended_ = true;
    timer_.cancel();
    transport_->close();
  }

 private:
  void read() {
    transport_->async_read_some(
        buffer_, [self = shared_from_this()](error_code ec, std::size_t size) {
          if (self->ended_) return;
          if (ec) return self->end(self->settings_.address.describe() + ": " + ec.message());
          try {
            self->reader_.feed({self->buffer_.data(), size});
            while (auto reply = self->reader_.next()) {
              if (++self->replies_ == self->settings_.deadline_replies) self->timer_.cancel();
              if (!self->on_reply_(std::move(*reply))) return self->end({});
              if (self->ended_) return;
            }
          } catch (const Error& e) {
            return self->end(e.what());
          }
          self->read();
        });
  }

  void end(std::string failure) {
    if (ended_) return;
    close();
    on_end_(std::move(failure));
  }

  Settings settings_;
  std::shared_ptr<Transport> transport_;
  boost::asio::steady_timer timer_;
  OnReply on_reply_;
  OnEnd on_end_;
  ReplyReader reader_;
  std::array<char, 4096> buffer_{};
  std::size_t replies_ = 0;
  bool ended_ = false;
};

}  // namespace

std::shared_ptr<ReplyStream> ReplyStream::start(const boost::asio::any_io_executor& strand,
                                                Settings settings, OnReply on_reply, OnEnd on_end) {
  auto stream = std::make_shared<TransportReplyStream>(strand, std::move(settings),
                                                       std::move(on_reply), std::move(on_end));
  stream->run();
  return stream;
}

}  // namespace distkit::detail
