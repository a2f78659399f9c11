#include "client/connection.hpp"

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <mutex>
#include <random>
#include <vector>

#include "client/backoff.hpp"
#include "client/reply_reader.hpp"
#include "core/log.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::chrono::milliseconds first_backoff{25};
constexpr std::chrono::milliseconds max_backoff{2000};
// A connection with requests in flight and silent for this many command
// timeouts is considered dead (e.g. the peer vanished without a RST) and is
// replaced. Shorter silences only time out the requests, which keeps a
// merely slow or paused Redis connected.
constexpr int silent_timeouts_before_reconnect = 3;

class TcpConnection final : public Connection, public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(const asio::any_io_executor& executor, Settings settings)
      : strand_(asio::make_strand(executor)),
        settings_(std::move(settings)),
        resolver_(strand_),
        socket_(strand_),
        connect_timer_(strand_),
        request_timer_(strand_),
        reconnect_timer_(strand_),
        backoff_(first_backoff, max_backoff, std::random_device{}()) {}

  // Resolves to an empty string once connected, or to why the first
  // connection failed.
  std::future<std::string> start() {
    auto first = first_connect_.get_future();
    asio::post(strand_, [self = shared_from_this()] { self->start_connect(); });
    return first;
  }

  void execute(Request request, ReplyCallback done) override {
    const auto deadline = clock::now() + settings_.command_timeout;
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back({std::move(request), std::move(done), deadline});
    if (!drain_scheduled_) {
      drain_scheduled_ = true;
      asio::post(strand_, [self = shared_from_this()] { self->drain_inbox(); });
    }
  }

  void close() override {
    closed_.store(true, std::memory_order_release);
    std::promise<void> closed;
    auto done = closed.get_future();
    asio::dispatch(strand_, [self = shared_from_this(), &closed] {
      self->shut_down();
      closed.set_value();
    });
    if (!strand_.running_in_this_thread()) done.wait();
  }

  bool closed() const noexcept override { return closed_.load(std::memory_order_acquire); }

  const asio::any_io_executor& executor() const noexcept override { return executor_; }

  std::chrono::milliseconds command_timeout() const noexcept override {
    return settings_.command_timeout;
  }

 private:
  enum class State { connecting, handshaking, ready, waiting_to_reconnect, closed };

  struct Submitted {
    Request request;
    ReplyCallback done;
    clock::time_point deadline;
  };

  static void run(std::vector<RequestQueue::Finished>& finished) {
    for (auto& entry : finished) entry.run();
    finished.clear();
  }

  // Moves everything submitted since the last drain into the queue in one
  // go: this is where concurrent callers get coalesced into one write.
  void drain_inbox() {
    std::vector<Submitted> batch;
    {
      std::lock_guard lock(inbox_mutex_);
      batch.swap(inbox_);
      drain_scheduled_ = false;
    }
    if (state_ == State::closed) {
      for (auto& entry : batch) entry.done(make_error_code(Errc::closed), {});
      return;
    }
    for (auto& entry : batch) {
      queue_.push(std::move(entry.request), std::move(entry.done), entry.deadline);
    }
    arm_request_timer();
    write_pending();
  }

  void start_connect() {
    if (state_ == State::closed) return;
    state_ = State::connecting;
    ++generation_;
    reader_ = std::make_unique<ReplyReader>();
    socket_ = tcp::socket(strand_);
    connect_timer_.expires_after(settings_.connect_timeout);
    connect_timer_.async_wait([self = shared_from_this(), generation = generation_](error_code ec) {
      if (ec || generation != self->generation_) return;
      if (self->state_ == State::connecting || self->state_ == State::handshaking) {
        self->connection_lost("could not connect within " +
                              std::to_string(self->settings_.connect_timeout.count()) + " ms");
      }
    });
    resolver_.async_resolve(
        settings_.endpoint.host, std::to_string(settings_.endpoint.port),
        [self = shared_from_this(), generation = generation_](error_code ec,
                                                              tcp::resolver::results_type found) {
          if (generation != self->generation_) return;
          if (ec) return self->connection_lost("cannot resolve host: " + ec.message());
          asio::async_connect(self->socket_, found,
                              [self, generation](error_code connect_ec, const tcp::endpoint&) {
                                if (generation != self->generation_) return;
                                if (connect_ec) {
                                  return self->connection_lost(connect_ec.message());
                                }
                                self->start_handshake();
                              });
        });
  }

  void start_handshake() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    socket_.set_option(asio::socket_base::keep_alive(true), ignored);
    state_ = State::handshaking;
    last_read_ = clock::now();
    start_read();

    std::vector<Request> handshake;
    const Endpoint& endpoint = settings_.endpoint;
    if (endpoint.password) {
      RequestBuilder auth("AUTH");
      if (endpoint.user) auth.arg(*endpoint.user);
      handshake.push_back(auth.arg(*endpoint.password).build());
    }
    if (endpoint.db != 0) handshake.push_back(RequestBuilder("SELECT").arg(endpoint.db).build());
    if (handshake.empty()) return on_ready();

    handshake_unwritten_ = handshake_unanswered_ = handshake.size();
    const auto deadline = clock::now() + settings_.connect_timeout;
    // push_front reverses, so queue the last command first.
    for (auto it = handshake.rbegin(); it != handshake.rend(); ++it) {
      queue_.push_front(
          std::move(*it),
          [self = shared_from_this(), generation = generation_](error_code ec, Reply reply) {
            self->on_handshake_reply(generation, ec, reply);
          },
          deadline);
    }
    write_pending();
  }

  void on_handshake_reply(std::uint64_t generation, error_code ec, const Reply& reply) {
    if (generation != generation_ || state_ != State::handshaking) return;
    if (ec) return connection_lost("handshake failed: " + ec.message());
    if (reply.is_error()) return connection_lost("handshake rejected: " + reply.text);
    if (--handshake_unanswered_ == 0) on_ready();
  }

  void on_ready() {
    state_ = State::ready;
    connect_timer_.cancel();
    backoff_.reset();
    if (!first_connect_done_) {
      first_connect_done_ = true;
      first_connect_.set_value({});
    } else {
      detail::log(LogLevel::info, "reconnected to Redis at " + address());
    }
    write_pending();
  }

  // Writes every queued request in one go (only the handshake while it
  // runs). Only one write is outstanding at a time; whatever is queued
  // meanwhile goes out together in the next one.
  void write_pending() {
    if (writing_ || queue_.queued() == 0) return;
    std::size_t limit = queue_.queued();
    if (state_ == State::handshaking) {
      limit = handshake_unwritten_;
      handshake_unwritten_ = 0;
    } else if (state_ != State::ready) {
      return;
    }
    if (limit == 0) return;
    write_buffer_.clear();
    queue_.take_writable(write_buffer_, limit);
    writing_ = true;
    asio::async_write(
        socket_, asio::buffer(write_buffer_),
        [self = shared_from_this(), generation = generation_](error_code ec, std::size_t) {
          if (generation != self->generation_) return;
          self->writing_ = false;
          if (ec) return self->connection_lost("write failed: " + ec.message());
          self->write_pending();
        });
  }

  void start_read() {
    socket_.async_read_some(
        asio::buffer(read_buffer_),
        [self = shared_from_this(), generation = generation_](error_code ec, std::size_t size) {
          if (generation != self->generation_) return;
          if (ec) return self->connection_lost("read failed: " + ec.message());
          self->on_read(size);
        });
  }

  void on_read(std::size_t size) {
    last_read_ = clock::now();
    std::vector<RequestQueue::Finished> finished;
    try {
      reader_->feed({read_buffer_.data(), size});
      while (auto reply = reader_->next()) queue_.on_reply(std::move(*reply), finished);
    } catch (const Error& e) {
      run(finished);
      return connection_lost(e.what());
    }
    const auto generation = generation_;
    run(finished);
    // A callback may have closed the connection or triggered a reconnect.
    if (generation != generation_ || state_ == State::closed) return;
    write_pending();  // NOSCRIPT re-sends
    start_read();
  }

  void arm_request_timer() {
    if (timer_armed_) return;
    const auto deadline = queue_.next_deadline();
    if (!deadline) return;
    timer_armed_ = true;
    request_timer_.expires_at(*deadline);
    request_timer_.async_wait([self = shared_from_this()](error_code ec) {
      self->timer_armed_ = false;
      if (ec || self->state_ == State::closed) return;
      self->on_request_timer();
    });
  }

  void on_request_timer() {
    const auto now = clock::now();
    std::vector<RequestQueue::Finished> finished;
    const bool connected = state_ == State::ready;
    queue_.expire(now, make_error_code(connected ? Errc::timeout : Errc::connection), finished);
    const bool silent =
        now - last_read_ > silent_timeouts_before_reconnect * settings_.command_timeout;
    run(finished);
    if (connected && state_ == State::ready && queue_.in_flight() > 0 && silent) {
      connection_lost(
          "no reply for " +
          std::to_string(silent_timeouts_before_reconnect * settings_.command_timeout.count()) +
          " ms");
    }
    arm_request_timer();
  }

  void connection_lost(const std::string& why) {
    if (state_ == State::closed) return;
    const bool was_ready = state_ == State::ready;
    ++generation_;  // silences the handlers of the old socket
    error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    connect_timer_.cancel();
    writing_ = false;
    handshake_unwritten_ = handshake_unanswered_ = 0;

    std::vector<RequestQueue::Finished> finished;
    queue_.fail_in_flight(make_error_code(Errc::connection), finished);
    if (!first_connect_done_) {
      // connect() reports this failure; it never retries.
      first_connect_done_ = true;
      state_ = State::closed;
      queue_.fail_all(make_error_code(Errc::connection), finished);
      first_connect_.set_value(why.empty() ? "unknown error" : why);
      run(finished);
      return;
    }
    if (was_ready) detail::log(LogLevel::warning, "lost Redis at " + address() + ": " + why);
    state_ = State::waiting_to_reconnect;
    reconnect_timer_.expires_after(backoff_.next());
    reconnect_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->start_connect();
    });
    run(finished);
    arm_request_timer();
  }

  void shut_down() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    ++generation_;
    error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    connect_timer_.cancel();
    request_timer_.cancel();
    reconnect_timer_.cancel();
    std::vector<RequestQueue::Finished> finished;
    queue_.fail_all(make_error_code(Errc::closed), finished);
    run(finished);
    drain_inbox();  // fails whatever is still in the inbox with Errc::closed
  }

  std::string address() const {
    return settings_.endpoint.host + ":" + std::to_string(settings_.endpoint.port);
  }

  asio::strand<asio::any_io_executor> strand_;
  asio::any_io_executor executor_{strand_};
  Settings settings_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer connect_timer_;
  asio::steady_timer request_timer_;
  asio::steady_timer reconnect_timer_;
  Backoff backoff_;

  std::atomic<bool> closed_{false};  // close() was called
  std::mutex inbox_mutex_;
  std::vector<Submitted> inbox_;
  bool drain_scheduled_ = false;

  State state_ = State::connecting;
  std::uint64_t generation_ = 0;
  RequestQueue queue_;
  std::unique_ptr<ReplyReader> reader_;
  std::string write_buffer_;
  bool writing_ = false;
  bool timer_armed_ = false;
  std::size_t handshake_unwritten_ = 0;
  std::size_t handshake_unanswered_ = 0;
  std::array<char, 64 * 1024> read_buffer_{};
  clock::time_point last_read_{};
  bool first_connect_done_ = false;
  std::promise<std::string> first_connect_;
};

}  // namespace

std::shared_ptr<Connection> Connection::open(asio::any_io_executor executor, Settings settings) {
  auto connection = std::make_shared<TcpConnection>(executor, std::move(settings));
  const std::string failure = connection->start().get();
  if (!failure.empty()) throw Error(Errc::connection, "cannot connect to Redis: " + failure);
  return connection;
}

}  // namespace distkit::detail
