// TLS over TCP (Boost.Asio SSL over OpenSSL). Only tls_transport.cpp sees
// the SSL headers.
#pragma once

#include <memory>

#include "client/transport.hpp"
#include "distkit/client.hpp"

namespace distkit::detail {

// The verified-TLS settings shared by every connection of a client: trusted
// CAs, the client certificate, and the name to verify. Immutable.
class TlsContext {
 public:
  // Loads the files `options` names. Throws Error{Errc::invalid_argument}
  // saying which file could not be used and why.
  static std::shared_ptr<const TlsContext> create(const TlsOptions& options);

  virtual ~TlsContext() = default;

 protected:
  TlsContext() = default;
};

// A TLS transport to `address`: TCP connect, then the TLS handshake with
// SNI and verification of the certificate chain and of the host name (or IP
// address) against TlsOptions::server_name or else address.host, unless
// verify_peer is false.
std::shared_ptr<Transport> make_tls_transport(const boost::asio::any_io_executor& executor,
                                              const ServerAddress& address,
                                              std::shared_ptr<const TlsContext> context);

}  // namespace distkit::detail
