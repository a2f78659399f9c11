// PipelinedConnection's lifecycle: finding the server, connecting, the
// handshake, reconnects with backoff, and shutdown; and Connection's
// factories.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <random>
#include <utility>

#include "client/pipelined_connection.hpp"
#include "client/sentinel_locator.hpp"
#include "core/log.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr std::chrono::milliseconds first_backoff{25};
constexpr std::chrono::milliseconds max_backoff{2000};

ServerAddress fixed_address(const RedisUrl& url) {
  if (url.scheme == UrlScheme::unix_socket) return {{}, 0, url.socket_path};
  return {url.hosts.front().host, url.hosts.front().port, {}};
}

std::unique_ptr<Locator> make_locator(const asio::any_io_executor& strand,
                                      const Connection::Settings& settings) {
  if (settings.url.uses_sentinel()) {
    // Every sentinel gets its share of connect_timeout, so that one that
    // does not answer at all leaves time to ask the others.
    const auto sentinels = static_cast<int>(settings.url.hosts.size());
    const auto per_sentinel =
        std::max(settings.connect_timeout / sentinels, std::chrono::milliseconds(100));
    return make_sentinel_locator(strand, settings.url, settings.tls, per_sentinel);
  }
  return make_fixed_locator(strand, fixed_address(settings.url));
}

}  // namespace

PipelinedConnection::PipelinedConnection(Strand strand, Settings settings,
                                         const LocatorFactory& locate, RedirectHandler on_redirect)
    : strand_(std::move(strand)),
      settings_(std::move(settings)),
      locator_(locate ? locate(strand_) : make_locator(executor_, settings_)),
      on_redirect_(std::move(on_redirect)),
      connect_timer_(strand_),
      request_timer_(strand_),
      reconnect_timer_(strand_),
      retry_timer_(strand_),
      backoff_(first_backoff, max_backoff, std::random_device{}()) {}

std::future<std::string> PipelinedConnection::start(bool in_background) {
  first_connect_done_ = in_background;
  auto first = first_connect_.get_future();
  asio::post(strand_, [self = shared_from_this()] {
    self->locator_->watch([weak = std::weak_ptr(self)](std::string why) {
      if (const auto connection = weak.lock()) connection->on_moved(std::move(why));
    });
    self->start_connect();
  });
  return first;
}

void PipelinedConnection::close() {
  closed_.store(true, std::memory_order_release);
  std::promise<void> closed;
  auto done = closed.get_future();
  asio::dispatch(strand_, [self = shared_from_this(), &closed] {
    self->shut_down();
    closed.set_value();
  });
  if (!strand_.running_in_this_thread()) done.wait();
}

// The locator says the server is no longer the right one (a failover):
// leave it, or stop waiting to reconnect, and find the new one now.
void PipelinedConnection::on_moved(std::string why) {
  if (state_ == State::closed) return;
  if (state_ == State::waiting_to_reconnect) {
    reconnect_timer_.cancel();
    return start_connect();
  }
  connection_lost(std::move(why));
}

void PipelinedConnection::start_connect() {
  if (state_ == State::closed) return;
  state_ = State::connecting;
  ++generation_;
  connect_timer_.expires_after(settings_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), generation = generation_](error_code ec) {
    if (ec || generation != self->generation_) return;
    if (self->state_ == State::connecting || self->state_ == State::handshaking) {
      std::string why = "could not connect within " +
                        std::to_string(self->settings_.connect_timeout.count()) + " ms";
      if (!self->last_refusal_.empty()) why += " (Redis answered " + self->last_refusal_ + ")";
      self->connection_lost(why);
    }
  });
  locator_->async_locate([self = shared_from_this(), generation = generation_](
                             std::optional<ServerAddress> address, std::string failure) {
    if (generation != self->generation_) return;
    if (!address) return self->connection_lost(failure);
    self->connect_to(std::move(*address));
  });
}

void PipelinedConnection::connect_to(ServerAddress address) {
  address_ = std::move(address);
  transport_ = make_transport(executor_, address_, settings_.tls);
  transport_->async_connect(
      [self = shared_from_this(), generation = generation_](std::string failure) {
        if (generation != self->generation_) return;
        if (!failure.empty()) return self->connection_lost(failure);
        self->start_handshake();
      });
}

void PipelinedConnection::start_handshake() {
  state_ = State::handshaking;
  reader_ = std::make_unique<ReplyReader>();
  last_read_ = clock::now();
  last_refusal_.clear();
  handshake_.emplace(settings_.url.credentials, settings_.url.db, locator_->requires_master(),
                     known_scripts_);
  retry_delay_ = first_retry_delay;
  start_read();
  write_handshake();
}

void PipelinedConnection::write_handshake() {
  write_buffer_ = handshake_->bytes();
  write_bytes(write_buffer_);
}

void PipelinedConnection::on_handshake_reply(const Reply& reply) {
  switch (handshake_->on_reply(reply)) {
    case Handshake::Status::waiting:
      return;
    case Handshake::Status::ready:
      return on_ready();
    case Handshake::Status::retry:
      // A server loading its dataset (or busy): ask again shortly, within
      // connect_timeout.
      last_refusal_ = handshake_->failure();
      return after_retry_delay([this] {
        handshake_->restart();
        write_handshake();
      });
    case Handshake::Status::relocate:
      return connection_lost(handshake_->failure());
    case Handshake::Status::failed:
      return connection_lost(handshake_->failure(), handshake_->authentication_failed());
  }
}

void PipelinedConnection::on_ready() {
  state_ = State::ready;
  connect_timer_.cancel();
  backoff_.reset();
  authentication_reported_ = false;
  if (!first_connect_done_) {
    first_connect_done_ = true;
    first_connect_.set_value({});
  } else if (was_ready_before_) {
    detail::log(LogLevel::info, "reconnected to Redis at " + address_.describe());
  }
  was_ready_before_ = true;
  // Requests refused before a reconnect were never run: they go first.
  if (queue_.refused_ready()) queue_.resume_refused();
  write_pending();
}

void PipelinedConnection::connection_lost(std::string why, bool authentication_failed) {
  if (state_ == State::closed) return;
  const bool was_ready = state_ == State::ready;
  ++generation_;  // silences the handlers of the old transport
  if (transport_) transport_->close();
  transport_.reset();
  connect_timer_.cancel();
  retry_timer_.cancel();
  writing_ = false;
  handshake_.reset();

  std::vector<RequestQueue::Finished> finished;
  queue_.fail_in_flight(make_error_code(Errc::connection), finished);
  const std::string where = address_.describe().empty() ? "" : " at " + address_.describe();
  if (!first_connect_done_) {
    // connect() reports this failure; it never retries.
    first_connect_done_ = true;
    state_ = State::closed;
    locator_->close();
    queue_.fail_all(make_error_code(Errc::connection), finished);
    first_connect_.set_value("Redis" + where + ": " + (why.empty() ? "unknown error" : why));
    run(finished);
    return;
  }
  if (authentication_failed) {
    if (!std::exchange(authentication_reported_, true)) {
      detail::log(LogLevel::error, "Redis" + where + " rejected the credentials on reconnect (" +
                                       why + "); retrying with backoff");
    }
  } else if (was_ready) {
    detail::log(LogLevel::warning, "lost Redis" + where + ": " + why);
  }
  state_ = State::waiting_to_reconnect;
  reconnect_timer_.expires_after(backoff_.next());
  reconnect_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->start_connect();
  });
  run(finished);
  arm_request_timer();
}

void PipelinedConnection::shut_down() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  ++generation_;
  if (transport_) transport_->close();
  transport_.reset();
  locator_->close();
  connect_timer_.cancel();
  request_timer_.cancel();
  reconnect_timer_.cancel();
  retry_timer_.cancel();
  std::vector<RequestQueue::Finished> finished;
  queue_.fail_all(make_error_code(Errc::closed), finished);
  run(finished);
  drain_inbox();  // fails whatever is still in the inbox with Errc::closed
}

std::shared_ptr<Connection> Connection::open(asio::any_io_executor executor, Settings settings) {
  auto connection = std::make_shared<PipelinedConnection>(asio::make_strand(executor),
                                                          std::move(settings), nullptr);
  const std::string failure = connection->start().get();
  if (!failure.empty()) throw Error(Errc::connection, "cannot connect to " + failure);
  return connection;
}

std::shared_ptr<NodeConnection> Connection::start(const Strand& strand, Settings settings,
                                                  const LocatorFactory& locate,
                                                  RedirectHandler on_redirect) {
  auto connection = std::make_shared<PipelinedConnection>(strand, std::move(settings), locate,
                                                          std::move(on_redirect));
  connection->start(true);
  return connection;
}

}  // namespace distkit::detail
