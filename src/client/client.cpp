#include "distkit/client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "client/client_access.hpp"
#include "client/cluster_connection.hpp"
#include "client/cluster_slot.hpp"
#include "client/connection.hpp"
#include "client/tls_transport.hpp"
#include "client/url.hpp"
#include "distkit/error.hpp"

namespace distkit {

// The private I/O thread of a Client created without an executor.
struct Client::IoThread {
  boost::asio::io_context context{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
      context.get_executor()};
  std::thread thread{[this] { context.run(); }};

  ~IoThread() {
    work.reset();
    context.stop();
    if (thread.get_id() == std::this_thread::get_id()) {
      // The last reference went away inside one of our own handlers; the
      // thread cannot join itself.
      thread.detach();
    } else {
      thread.join();
    }
  }
};

namespace {

detail::Connection::Settings connection_settings(const ClientOptions& options) {
  if (options.connect_timeout.count() <= 0 || options.command_timeout.count() <= 0) {
    throw Error(Errc::invalid_argument, "connect_timeout and command_timeout must be positive");
  }
  detail::RedisUrl url = detail::parse_redis_url(options.url);
  auto tls = url.uses_tls() ? detail::TlsContext::create(options.tls) : nullptr;
  return {std::move(url), std::move(tls), options.connect_timeout, options.command_timeout};
}

std::shared_ptr<detail::Connection> open_connection(const boost::asio::any_io_executor& executor,
                                                    detail::Connection::Settings settings) {
  if (settings.url.uses_cluster()) {
    return detail::open_cluster_connection(executor, std::move(settings));
  }
  return detail::Connection::open(executor, std::move(settings));
}

}  // namespace

Client::Client(std::unique_ptr<IoThread> io_thread, std::shared_ptr<detail::Connection> connection,
               ClientOptions options)
    : io_thread_(std::move(io_thread)),
      connection_(std::move(connection)),
      options_(std::move(options)) {}

std::shared_ptr<Client> Client::connect(ClientOptions options) {
  auto settings = connection_settings(options);
  auto io_thread = std::make_unique<IoThread>();
  auto connection = open_connection(io_thread->context.get_executor(), std::move(settings));
  return std::shared_ptr<Client>(
      new Client(std::move(io_thread), std::move(connection), std::move(options)));
}

std::shared_ptr<Client> Client::connect(std::string url) {
  ClientOptions options;
  options.url = std::move(url);
  return connect(std::move(options));
}

std::shared_ptr<Client> Client::connect(boost::asio::any_io_executor executor,
                                        ClientOptions options) {
  auto settings = connection_settings(options);
  auto connection = open_connection(executor, std::move(settings));
  return std::shared_ptr<Client>(new Client(nullptr, std::move(connection), std::move(options)));
}

void Client::close() {
  connection_->close();
}

Client::~Client() {
  close();
  // The connection's sockets and timers belong to the I/O thread's context,
  // so they must go first.
  connection_.reset();
  io_thread_.reset();
}

const ClientOptions& Client::options() const noexcept {
  return options_;
}

}  // namespace distkit

namespace distkit::detail {

void ClientAccess::require_one_slot(const Client& client,
                                    std::initializer_list<std::string_view> keys,
                                    std::string_view refusal) {
  if (!client.connection_->routes_by_slot() || keys.size() == 0) return;
  const std::uint16_t first = cluster_key_slot(*keys.begin());
  bool shared = true;
  for (std::string_view key : keys) shared = shared && cluster_key_slot(key) == first;
  if (shared) return;
  std::string message(refusal);
  message += " (Redis Cluster slots:";
  for (std::string_view key : keys) {
    message += " '" + std::string(key) + "' -> " + std::to_string(cluster_key_slot(key));
  }
  message += ")";
  throw Error(Errc::invalid_argument, message);
}

void ClientAccess::require_hash_tag(const Client& client, std::string_view prefix,
                                    std::string_view refusal) {
  if (!client.connection_->routes_by_slot() || cluster_hash_tag(prefix).size() != prefix.size()) {
    return;
  }
  throw Error(Errc::invalid_argument, std::string(refusal));
}

}  // namespace distkit::detail
