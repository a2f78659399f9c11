#include "client/connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "client/backoff.hpp"
#include "client/handshake.hpp"
#include "client/locator.hpp"
#include "client/reply_reader.hpp"
#include "client/sentinel_locator.hpp"
#include "client/transport.hpp"
#include "core/log.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::chrono::milliseconds first_backoff{25};
constexpr std::chrono::milliseconds max_backoff{2000};
// How long to wait before asking again after a passing state (LOADING,
// BUSY, ...): short at first, then at most a few times per second.
constexpr std::chrono::milliseconds first_retry_delay{5};
constexpr std::chrono::milliseconds max_retry_delay{200};
// A connection with requests in flight and silent for this many command
// timeouts is considered dead (e.g. the peer vanished without a RST) and is
// replaced. Shorter silences only time out the requests, which keeps a
// merely slow or paused Redis connected.
constexpr int silent_timeouts_before_reconnect = 3;
// A write buffer grown past this by a large request is released afterwards
// instead of keeping its peak capacity for the life of the connection.
constexpr std::size_t kept_write_capacity = 1 << 20;
// Replies to script calls in one read from which half of the read's
// callbacks run before the requests they made are written (see on_read).
constexpr std::size_t early_write_scripts = 16;

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

class PipelinedConnection final : public NodeConnection,
                                  public std::enable_shared_from_this<PipelinedConnection> {
 public:
  PipelinedConnection(Strand strand, Settings settings, const LocatorFactory& locate,
                      RedirectHandler on_redirect = {})
      : strand_(std::move(strand)),
        settings_(std::move(settings)),
        locator_(locate ? locate(strand_) : make_locator(executor_, settings_)),
        on_redirect_(std::move(on_redirect)),
        connect_timer_(strand_),
        request_timer_(strand_),
        reconnect_timer_(strand_),
        retry_timer_(strand_),
        backoff_(first_backoff, max_backoff, std::random_device{}()) {}

  // Resolves to an empty string once connected, or to why the first
  // connection failed. In the background, a failed first connection is
  // retried like a reconnect instead.
  std::future<std::string> start(bool in_background = false) {
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

  void submit(Request request, ReplyCallback done, Submission how) override {
    std::lock_guard lock(inbox_mutex_);
    enqueue(std::move(request), std::move(done), how);
  }

  bool submit_on_route(Request& request, ReplyCallback& done, Submission how,
                       Route route) override {
    std::lock_guard lock(inbox_mutex_);
    if (route.word->load(std::memory_order_acquire) != route.expected) return false;
    enqueue(std::move(request), std::move(done), how);
    return true;
  }

  void fence(std::int32_t slot, ReplyCallback passed) override {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back({{}, std::move(passed), clock::time_point::max(), 0, slot, false, true});
    schedule_drain();
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
    int redirects;
    std::int32_t slot;
    bool asking = false;
    bool fence = false;
  };

  // Holds inbox_mutex_.
  // Takes references: moving a request and its callback costs a few
  // hundred bytes of copying, once per call is enough.
  void enqueue(Request&& request, ReplyCallback&& done, const Submission& how) {
    inbox_.push_back(
        {std::move(request), std::move(done), how.deadline, how.redirects, how.slot, how.asking});
    schedule_drain();
  }

  // Holds inbox_mutex_.
  void schedule_drain() {
    if (drain_scheduled_) return;
    drain_scheduled_ = true;
    asio::post(strand_, [self = shared_from_this()] { self->drain_inbox(); });
  }

  static void run(std::vector<RequestQueue::Finished>& finished) {
    for (auto& entry : finished) entry.run();
    finished.clear();
  }

  // Hands redirected requests back and runs the callbacks of answered
  // requests [first, last). Returns false when a callback closed the
  // connection or triggered a reconnect. Redirected requests are sent on
  // before any callback runs, so that a fence that passed in the same read
  // finds them already on their way.
  bool settle(std::vector<RequestQueue::Finished>& finished, std::size_t first, std::size_t last,
              std::vector<RequestQueue::Redirected>& redirected, std::uint64_t generation) {
    for (auto& entry : redirected) on_redirect_(std::move(entry));
    redirected.clear();
    for (std::size_t i = first; i < last; ++i) finished[i].run();
    return generation == generation_ && state_ != State::closed;
  }

  // The locator says the server is no longer the right one (a failover):
  // leave it, or stop waiting to reconnect, and find the new one now.
  void on_moved(std::string why) {
    if (state_ == State::closed) return;
    if (state_ == State::waiting_to_reconnect) {
      reconnect_timer_.cancel();
      return start_connect();
    }
    connection_lost(std::move(why));
  }

  // Moves everything submitted since the last drain into the queue in one
  // go: this is where concurrent callers get coalesced into one write.
  void drain_inbox() {
    // The inbox and this batch trade their vectors, so both keep their
    // capacity from one drain to the next.
    std::vector<Submitted> batch = std::exchange(spare_inbox_, {});
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
      if (entry.fence) {
        queue_.push_fence(entry.slot, std::move(entry.done));
        continue;
      }
      // A script's first use runs as EVAL, which also loads it: a later
      // EVALSHA in the same pipeline then finds it, so a new script never
      // meets NOSCRIPT (whose cure must hold back everything behind it).
      if (remember_script(entry.request.script())) entry.request.switch_to_eval();
      queue_.push(std::move(entry.request), std::move(entry.done), entry.deadline, entry.redirects,
                  entry.asking, entry.slot);
    }
    recycle(std::move(batch), spare_inbox_);
    std::vector<RequestQueue::Finished> passed;
    queue_.settle_fences(passed);
    run(passed);
    arm_request_timer();
    write_pending();
  }

  // Keeps an emptied vector's capacity for the next use, unless a burst
  // grew it past what steady traffic needs.
  template <class T>
  static void recycle(std::vector<T> used, std::vector<T>& spare) {
    constexpr std::size_t kept_entries = 1024;
    used.clear();
    if (used.capacity() <= kept_entries) spare = std::move(used);
  }

  // Scripts used once are loaded by every later handshake, so that a
  // restarted or new server never answers NOSCRIPT. Returns true for a
  // script not seen before.
  bool remember_script(const Script* script) {
    if (script == nullptr ||
        std::find(known_scripts_.begin(), known_scripts_.end(), script) != known_scripts_.end()) {
      return false;
    }
    known_scripts_.push_back(script);
    return true;
  }

  void start_connect() {
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

  void connect_to(ServerAddress address) {
    address_ = std::move(address);
    transport_ = make_transport(executor_, address_, settings_.tls);
    transport_->async_connect(
        [self = shared_from_this(), generation = generation_](std::string failure) {
          if (generation != self->generation_) return;
          if (!failure.empty()) return self->connection_lost(failure);
          self->start_handshake();
        });
  }

  void start_handshake() {
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

  void write_handshake() {
    write_buffer_ = handshake_->bytes();
    write_bytes(write_buffer_);
  }

  void on_handshake_reply(const Reply& reply) {
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

  void on_ready() {
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

  // Runs `then` on the strand after the current retry delay (which then
  // doubles), unless the connection changes meanwhile.
  template <class Then>
  void after_retry_delay(Then then) {
    retry_timer_.expires_after(retry_delay_);
    retry_delay_ = std::min(retry_delay_ * 2, max_retry_delay);
    retry_timer_.async_wait(
        [self = shared_from_this(), generation = generation_, then](error_code ec) mutable {
          if (ec || generation != self->generation_) return;
          then();
        });
  }

  // Writes every queued request in one go. Only one write is outstanding at
  // a time; whatever is queued meanwhile goes out together in the next one.
  void write_pending() {
    if (writing_ || state_ != State::ready || queue_.queued() == 0) return;
    write_buffer_.clear();
    if (queue_.take_writable(write_buffer_) == 0) return;
    write_bytes(write_buffer_);
  }

  void write_bytes(std::string_view bytes) {
    writing_ = true;
    transport_->async_write(
        bytes, [self = shared_from_this(), generation = generation_](error_code ec, std::size_t) {
          if (generation != self->generation_) return;
          self->writing_ = false;
          if (ec) return self->connection_lost("write failed: " + ec.message());
          if (self->write_buffer_.capacity() > kept_write_capacity)
            std::string().swap(self->write_buffer_);
          self->write_pending();
        });
  }

  void start_read() {
    transport_->async_read_some(read_buffer_, [self = shared_from_this(), generation = generation_](
                                                  error_code ec, std::size_t size) {
      if (generation != self->generation_) return;
      if (ec) return self->connection_lost("read failed: " + ec.message());
      self->on_read(size);
    });
  }

  void on_read(std::size_t size) {
    last_read_ = clock::now();
    const auto generation = generation_;
    std::vector<RequestQueue::Finished> finished = std::exchange(spare_finished_, {});
    std::vector<RequestQueue::Redirected> redirected;
    auto* const hand_back = on_redirect_ ? &redirected : nullptr;
    const std::size_t scripts_before = queue_.scripts_answered();
    try {
      reader_->feed({read_buffer_.data(), size});
      while (auto reply = reader_->next()) {
        if (state_ == State::handshaking) {
          on_handshake_reply(*reply);
          if (generation != generation_) return;  // the handshake gave up
          continue;
        }
        if (auto refusal = queue_.on_reply(std::move(*reply), finished, hand_back)) {
          note_refusal(*refusal);
        }
      }
    } catch (const Error& e) {
      settle(finished, 0, finished.size(), redirected, generation);
      return connection_lost(e.what());
    }
    // Scripts keep Redis busy for microseconds each. When this read
    // answered many, the requests made by the first half of its callbacks
    // are written before the second half runs, so that Redis works on them
    // meanwhile instead of waiting for the whole read to be handled. Plain
    // commands cost Redis less than the extra write and wakeup: their
    // replies are all handled first, and what they ask for goes out in one
    // write.
    std::size_t handled = 0;
    if (!writing_ && queue_.scripts_answered() - scripts_before >= early_write_scripts) {
      handled = finished.size() / 2;
      if (settle(finished, 0, handled, redirected, generation)) drain_inbox();
    }
    if (!settle(finished, handled, finished.size(), redirected, generation)) return;
    recycle(std::move(finished), spare_finished_);
    if (state_ == State::ready) cure_refusal();
    if (generation != generation_) return;
    write_pending();
    start_read();
  }

  void note_refusal(Refusal refusal) {
    if (!pending_refusal_ || static_cast<int>(refusal) > static_cast<int>(*pending_refusal_)) {
      pending_refusal_ = refusal;
    }
  }

  // Once every request written before a refusal is answered, does what
  // cures it and sends the refused requests again, in order.
  void cure_refusal() {
    if (!pending_refusal_ || !queue_.refused_ready()) {
      if (queue_.refused() == 0) pending_refusal_.reset();
      return;
    }
    const Refusal refusal = *std::exchange(pending_refusal_, std::nullopt);
    switch (refusal) {
      case Refusal::noscript:
        queue_.resume_refused();
        return;
      case Refusal::passing:
        return after_retry_delay([this] {
          queue_.resume_refused();
          write_pending();
        });
      case Refusal::relocate:
        return connection_lost("Redis at " + address_.describe() +
                               " refused a write as a replica (READONLY or MASTERDOWN)");
    }
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
    if (queue_.refused() == 0) pending_refusal_.reset();  // all expired unsent
    write_pending();  // expired refused requests may have been holding writes
    arm_request_timer();
  }

  void connection_lost(std::string why, bool authentication_failed = false) {
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

  void shut_down() {
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

  Strand strand_;
  asio::any_io_executor executor_{strand_};
  Settings settings_;
  std::unique_ptr<Locator> locator_;
  RedirectHandler on_redirect_;  // empty but for Redis Cluster
  asio::steady_timer connect_timer_;
  asio::steady_timer request_timer_;
  asio::steady_timer reconnect_timer_;
  asio::steady_timer retry_timer_;
  Backoff backoff_;

  std::atomic<bool> closed_{false};  // close() was called
  std::mutex inbox_mutex_;
  std::vector<Submitted> inbox_;
  bool drain_scheduled_ = false;
  std::vector<Submitted> spare_inbox_;
  std::vector<RequestQueue::Finished> spare_finished_;

  State state_ = State::connecting;
  std::uint64_t generation_ = 0;
  ServerAddress address_;
  std::shared_ptr<Transport> transport_;
  std::optional<Handshake> handshake_;
  std::vector<const Script*> known_scripts_;
  RequestQueue queue_;
  std::optional<Refusal> pending_refusal_;
  std::chrono::milliseconds retry_delay_ = first_retry_delay;
  std::string last_refusal_;
  std::unique_ptr<ReplyReader> reader_;
  std::string write_buffer_;
  bool writing_ = false;
  bool timer_armed_ = false;
  std::array<char, 64 * 1024> read_buffer_{};
  clock::time_point last_read_{};
  bool first_connect_done_ = false;
  bool was_ready_before_ = false;
  bool authentication_reported_ = false;
  std::promise<std::string> first_connect_;
};

}  // namespace

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
