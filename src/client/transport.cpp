#include "client/transport.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include "client/tcp_connect.hpp"
#include "client/tls_transport.hpp"

namespace distkit::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Reads, writes and closing, the same for every plain socket type.
template <class Socket>
class SocketTransport : public Transport,
                        public std::enable_shared_from_this<SocketTransport<Socket>> {
 public:
  explicit SocketTransport(const asio::any_io_executor& executor) : socket_(executor) {}

  void async_write(std::string_view bytes, IoHandler done) override {
    asio::async_write(socket_, asio::buffer(bytes),
                      [self = this->shared_from_this(), done = std::move(done)](
                          error_code ec, std::size_t size) mutable { done(ec, size); });
  }

  void async_read_some(std::span<char> into, IoHandler done) override {
    socket_.async_read_some(asio::buffer(into.data(), into.size()),
                            [self = this->shared_from_this(), done = std::move(done)](
                                error_code ec, std::size_t size) mutable { done(ec, size); });
  }

  void close() noexcept override {
    error_code ignored;
    socket_.close(ignored);
  }

 protected:
  Socket socket_;
};

class TcpTransport final : public SocketTransport<tcp::socket> {
 public:
  TcpTransport(const asio::any_io_executor& executor, ServerAddress address)
      : SocketTransport(executor), resolver_(executor), address_(std::move(address)) {}

  void async_connect(ConnectHandler done) override {
    async_connect_tcp(shared_from_this(), resolver_, socket_, address_, std::move(done));
  }

  void close() noexcept override {
    resolver_.cancel();
    SocketTransport::close();
  }

 private:
  tcp::resolver resolver_;
  ServerAddress address_;
};

class UnixTransport final : public SocketTransport<asio::local::stream_protocol::socket> {
 public:
  UnixTransport(const asio::any_io_executor& executor, std::string path)
      : SocketTransport(executor), path_(std::move(path)) {}

  void async_connect(ConnectHandler done) override {
    socket_.async_connect(asio::local::stream_protocol::endpoint(path_),
                          [self = shared_from_this(), done = std::move(done)](
                              error_code ec) mutable { done(ec ? ec.message() : std::string()); });
  }

 private:
  std::string path_;
};

}  // namespace

std::string ServerAddress::describe() const {
  if (!socket_path.empty()) return socket_path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

void async_connect_tcp(std::shared_ptr<void> owner, tcp::resolver& resolver, tcp::socket& socket,
                       const ServerAddress& address, Transport::ConnectHandler done) {
  resolver.async_resolve(address.host, std::to_string(address.port),
                         [owner = std::move(owner), &socket, done = std::move(done)](
                             error_code ec, const tcp::resolver::results_type& found) mutable {
                           if (ec) return done("cannot resolve host: " + ec.message());
                           asio::async_connect(
                               socket, found,
                               [owner = std::move(owner), &socket, done = std::move(done)](
                                   error_code connect_ec, const tcp::endpoint&) mutable {
                                 if (connect_ec) return done(connect_ec.message());
                                 error_code ignored;
                                 socket.set_option(tcp::no_delay(true), ignored);
                                 socket.set_option(asio::socket_base::keep_alive(true), ignored);
                                 done({});
                               });
                         });
}

std::shared_ptr<Transport> make_transport(const asio::any_io_executor& executor,
                                          const ServerAddress& address,
                                          std::shared_ptr<const TlsContext> tls) {
  if (!address.socket_path.empty()) {
    return std::make_shared<UnixTransport>(executor, address.socket_path);
  }
  if (tls) return make_tls_transport(executor, address, std::move(tls));
  return std::make_shared<TcpTransport>(executor, address);
}

}  // namespace distkit::detail
