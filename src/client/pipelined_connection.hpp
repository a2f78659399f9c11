// The implementation of Connection: one auto-pipelined connection to one
// Redis. Its lifecycle (finding the server, connecting, the handshake,
// reconnects, shutdown) is in pipelined_connection_lifecycle.cpp; the
// request path (submission, writes, reads, retries of refused requests,
// deadlines) in pipelined_connection.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "client/backoff.hpp"
#include "client/connection.hpp"
#include "client/handshake.hpp"
#include "client/locator.hpp"
#include "client/refusal.hpp"
#include "client/reply_reader.hpp"
#include "client/request_queue.hpp"
#include "client/transport.hpp"

namespace distkit::detail {

// How long to wait before asking again after a passing state (LOADING,
// BUSY, ...): short at first, then at most a few times per second.
inline constexpr std::chrono::milliseconds first_retry_delay{5};
inline constexpr std::chrono::milliseconds max_retry_delay{200};

// start() is called once, right after construction. Then everything runs on
// the strand but submit(), submit_on_route(), fence(), close() and the const
// accessors, which any thread may call.
class PipelinedConnection final : public NodeConnection,
                                  public std::enable_shared_from_this<PipelinedConnection> {
 public:
  // `locate` makes the locator; when empty, the URL in `settings` decides
  // (a fixed address, or the master Sentinel names). `on_redirect`, set for
  // Redis Cluster only, takes requests answered with MOVED or ASK.
  PipelinedConnection(Strand strand, Settings settings, const LocatorFactory& locate,
                      RedirectHandler on_redirect = {});

  // Resolves to an empty string once connected, or to why the first
  // connection failed. In the background, a failed first connection is
  // retried like a reconnect instead.
  std::future<std::string> start(bool in_background = false);

  void submit(Request request, ReplyCallback done, Submission how) override;
  bool submit_on_route(Request& request, ReplyCallback& done, Submission how, Route route) override;
  void fence(std::int32_t slot, ReplyCallback passed) override;
  void close() override;
  bool closed() const noexcept override { return closed_.load(std::memory_order_acquire); }
  const boost::asio::any_io_executor& executor() const noexcept override { return executor_; }
  std::chrono::milliseconds command_timeout() const noexcept override {
    return settings_.command_timeout;
  }

 private:
  using clock = std::chrono::steady_clock;
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

  // The request path (pipelined_connection.cpp).

  // Holds inbox_mutex_. Takes references: moving a request and its
  // callback costs a few hundred bytes of copying, once per call is enough.
  void enqueue(Request&& request, ReplyCallback&& done, const Submission& how);
  // Holds inbox_mutex_.
  void schedule_drain();
  void drain_inbox();
  static void run(std::vector<RequestQueue::Finished>& finished);
  bool settle(std::vector<RequestQueue::Finished>& finished, std::size_t first, std::size_t last,
              std::vector<RequestQueue::Redirected>& redirected, std::uint64_t generation);
  bool remember_script(const Script* script);
  void write_pending();
  void write_bytes(std::string_view bytes);
  void start_read();
  void on_read(std::size_t size);
  void note_refusal(Refusal refusal);
  void cure_refusal();
  // Arms the request timer for the earliest request deadline, or for when a
  // connection with replies due has been silent too long. `earliest_new`,
  // when given, is the earliest deadline submitted since the last call.
  void arm_request_timer(std::optional<clock::time_point> earliest_new = std::nullopt);
  void on_request_timer();

  // The lifecycle (pipelined_connection_lifecycle.cpp).

  void on_moved(std::string why);
  void start_connect();
  void connect_to(ServerAddress address);
  void start_handshake();
  void write_handshake();
  void on_handshake_reply(const Reply& reply);
  void on_ready();
  void connection_lost(std::string why, bool authentication_failed = false);
  void shut_down();

  // Runs `then` on the strand after the current retry delay (which then
  // doubles), unless the connection changes meanwhile.
  template <class Then>
  void after_retry_delay(Then then) {
    retry_timer_.expires_after(retry_delay_);
    retry_delay_ = std::min(retry_delay_ * 2, max_retry_delay);
    retry_timer_.async_wait([self = shared_from_this(), generation = generation_,
                             then](boost::system::error_code ec) mutable {
      if (ec || generation != self->generation_) return;
      then();
    });
  }

  Strand strand_;
  boost::asio::any_io_executor executor_{strand_};
  Settings settings_;
  std::unique_ptr<Locator> locator_;
  RedirectHandler on_redirect_;  // empty but for Redis Cluster
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer request_timer_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer retry_timer_;
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
  std::optional<clock::time_point> timer_deadline_;  // while the request timer is armed
  std::array<char, 64 * 1024> read_buffer_{};
  clock::time_point last_read_{};
  bool first_connect_done_ = false;
  bool was_ready_before_ = false;
  bool authentication_reported_ = false;
  std::promise<std::string> first_connect_;
};

}  // namespace distkit::detail
