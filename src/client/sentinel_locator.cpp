#include "client/sentinel_locator.hpp"

#include <boost/asio/steady_timer.hpp>
#include <vector>

#include "client/reply_stream.hpp"
#include "client/sentinel_protocol.hpp"

namespace distkit::detail {
namespace {

using boost::system::error_code;

// How long the watch waits before trying the next sentinel after losing
// one: often enough to notice failovers, rarely enough not to spin.
constexpr std::chrono::milliseconds watch_retry_delay{500};

// The state lives behind a shared_ptr because sentinel conversations may
// outlive a Locator that was closed; their callbacks hold it weakly.
class SentinelState : public std::enable_shared_from_this<SentinelState> {
 public:
  SentinelState(const boost::asio::any_io_executor& strand, const RedisUrl& url,
                std::shared_ptr<const TlsContext> tls, std::chrono::milliseconds timeout)
      : strand_(strand),
        master_name_(url.master_name),
        credentials_(url.sentinel_credentials),
        tls_(std::move(tls)),
        timeout_(timeout),
        watch_timer_(strand) {
    for (const HostPort& sentinel : url.hosts)
      sentinels_.push_back({sentinel.host, sentinel.port, {}});
  }

  void locate(Locator::Located done) {
    failures_.clear();
    ask(first_, 0, std::move(done));
  }

  void watch(Locator::Moved moved) {
    moved_ = std::move(moved);
    listen(first_);
  }

  void close() {
    closed_ = true;
    watch_timer_.cancel();
    for (auto* stream : {&query_, &watch_}) {
      if (*stream) (*stream)->close();
      stream->reset();
    }
  }

 private:
  // Asks sentinel `index`, then the next ones, `asked` of them so far.
  void ask(std::size_t index, std::size_t asked, Locator::Located done) {
    if (closed_) return;
    if (asked == sentinels_.size()) {
      return done(std::nullopt,
                  "no sentinel named the master '" + master_name_ + "' (" + failures_ + ")");
    }
    const std::size_t skip = replies_for(credentials_) - 1;  // AUTH's reply
    auto result = std::make_shared<std::optional<ServerAddress>>();
    auto why = std::make_shared<std::string>();
    query_ = ReplyStream::start(
        strand_,
        {sentinels_[index], tls_, encode_master_query(credentials_, master_name_),
         replies_for(credentials_), timeout_},
        [result, why, skip, seen = std::size_t{0}](Reply reply) mutable {
          if (seen++ < skip) {
            if (!reply.is_error()) return true;
            *why = "AUTH: " + reply.text;
            return false;
          }
          *result = parse_master_address(reply, *why);
          return false;
        },
        [weak = weak_from_this(), index, asked, result, why,
         done = std::move(done)](std::string failure) mutable {
          const auto self = weak.lock();
          if (!self || self->closed_) return;
          if (*result) {
            self->first_ = index;
            return done(std::move(*result), {});
          }
          self->note_failure(index, failure.empty() ? *why : failure);
          self->ask((index + 1) % self->sentinels_.size(), asked + 1, std::move(done));
        });
  }

  void note_failure(std::size_t index, const std::string& why) {
    if (!failures_.empty()) failures_ += "; ";
    failures_ += sentinels_[index].describe() + ": " + why;
  }

  // Subscribes to +switch-master on sentinel `index`; when the stream ends,
  // tries the next sentinel after a pause.
  void listen(std::size_t index) {
    if (closed_) return;
    watch_ = ReplyStream::start(
        strand_,
        {sentinels_[index], tls_, encode_switch_master_subscription(credentials_),
         replies_for(credentials_), timeout_},
        [weak = weak_from_this()](Reply message) {
          const auto self = weak.lock();
          if (!self || self->closed_) return false;
          if (auto master = parse_switch_master(message, self->master_name_)) {
            self->moved_("Sentinel announced a failover of '" + self->master_name_ + "' to " +
                         master->describe());
          }
          return true;
        },
        [weak = weak_from_this(), index](const std::string&) {
          const auto self = weak.lock();
          if (!self || self->closed_) return;
          self->watch_timer_.expires_after(watch_retry_delay);
          self->watch_timer_.async_wait([weak = self->weak_from_this(), index](error_code ec) {
            const auto again = weak.lock();
            if (!ec && again) again->listen((index + 1) % again->sentinels_.size());
          });
        });
  }

  boost::asio::any_io_executor strand_;
  std::string master_name_;
  Credentials credentials_;
  std::shared_ptr<const TlsContext> tls_;
  std::chrono::milliseconds timeout_;
  std::vector<ServerAddress> sentinels_;
  std::size_t first_ = 0;  // the sentinel that answered last
  std::string failures_;
  Locator::Moved moved_;
  std::shared_ptr<ReplyStream> query_;
  std::shared_ptr<ReplyStream> watch_;
  boost::asio::steady_timer watch_timer_;
  bool closed_ = false;
};

class SentinelLocator final : public Locator {
 public:
  explicit SentinelLocator(std::shared_ptr<SentinelState> state) : state_(std::move(state)) {}
  ~SentinelLocator() override { state_->close(); }

  void async_locate(Located done) override { state_->locate(std::move(done)); }
  bool requires_master() const noexcept override { return true; }
  void watch(Moved moved) override { state_->watch(std::move(moved)); }
  void close() override { state_->close(); }

 private:
  std::shared_ptr<SentinelState> state_;
};

}  // namespace

std::unique_ptr<Locator> make_sentinel_locator(const boost::asio::any_io_executor& strand,
                                               const RedisUrl& url,
                                               std::shared_ptr<const TlsContext> tls,
                                               std::chrono::milliseconds timeout) {
  return std::make_unique<SentinelLocator>(
      std::make_shared<SentinelState>(strand, url, std::move(tls), timeout));
}

}  // namespace distkit::detail
