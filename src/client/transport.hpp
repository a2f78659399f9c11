// The byte stream under a connection: TCP, a Unix socket, or TLS over TCP.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "client/unique_function.hpp"

namespace distkit::detail {

class TlsContext;

// Where one Redis (or Sentinel) listens.
struct ServerAddress {
  std::string host;  // TCP: name or address
  std::uint16_t port = 0;
  std::string socket_path;  // a Unix socket when not empty

  // "host:port", "[v6]:port" or the socket path: for messages.
  std::string describe() const;
  friend bool operator==(const ServerAddress&, const ServerAddress&) = default;
};

// One connection attempt's stream. Every handler runs on the executor the
// transport was made with; the transport keeps itself alive until its
// handlers have run, so it may be dropped with operations outstanding
// (after close()).
class Transport {
 public:
  using IoHandler = UniqueFunction<void(boost::system::error_code, std::size_t)>;
  // Receives "" once connected (TLS: handshake and verification done), or
  // why it failed.
  using ConnectHandler = UniqueFunction<void(std::string failure)>;

  virtual ~Transport() = default;

  virtual void async_connect(ConnectHandler done) = 0;
  // Writes all of `bytes`, which must stay valid until `done` runs.
  virtual void async_write(std::string_view bytes, IoHandler done) = 0;
  virtual void async_read_some(std::span<char> into, IoHandler done) = 0;
  // Cancels outstanding operations and closes the stream. Idempotent.
  virtual void close() noexcept = 0;
};

// A transport to `address` on `executor` (which must be a strand or
// otherwise serialise its handlers): TLS when `tls` is set.
std::shared_ptr<Transport> make_transport(const boost::asio::any_io_executor& executor,
                                          const ServerAddress& address,
                                          std::shared_ptr<const TlsContext> tls);

}  // namespace distkit::detail
