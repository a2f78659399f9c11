#include "client/tls_transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "client/tcp_connect.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class OpenSslContext final : public TlsContext {
 public:
  explicit OpenSslContext(const TlsOptions& options)
      : context_(ssl::context::tls_client), options_(options) {
    SSL_CTX_set_min_proto_version(context_.native_handle(), TLS1_2_VERSION);
    if (options.verify_peer) {
      context_.set_verify_mode(ssl::verify_peer);
      load("ca_file", options.ca_file, [&](error_code& ec) {
        if (options.ca_file.empty()) return context_.set_default_verify_paths(ec);
        context_.load_verify_file(options.ca_file, ec);
      });
    } else {
      context_.set_verify_mode(ssl::verify_none);
    }
    if (options.cert_file.empty() != options.key_file.empty()) {
      throw Error(Errc::invalid_argument,
                  "TlsOptions: cert_file and key_file go together (mutual TLS needs both)");
    }
    if (!options.cert_file.empty()) {
      load("cert_file", options.cert_file,
           [&](error_code& ec) { context_.use_certificate_chain_file(options.cert_file, ec); });
      load("key_file", options.key_file, [&](error_code& ec) {
        context_.use_private_key_file(options.key_file, ssl::context::pem, ec);
      });
    }
  }

  ssl::context& context() const noexcept { return context_; }
  const TlsOptions& options() const noexcept { return options_; }

 private:
  template <class Load>
  void load(const char* what, const std::string& file, Load&& call) {
    error_code ec;
    call(ec);
    if (ec) {
      throw Error(Errc::invalid_argument, std::string("TlsOptions::") + what + " '" + file +
                                              "' cannot be used: " + ec.message());
    }
  }

  // ssl::stream takes the context by non-const reference, though it only
  // reads it once set up.
  mutable ssl::context context_;
  TlsOptions options_;
};

class TlsTransport final : public Transport, public std::enable_shared_from_this<TlsTransport> {
 public:
  TlsTransport(const asio::any_io_executor& executor, ServerAddress address,
               std::shared_ptr<const OpenSslContext> context)
      : context_(std::move(context)),
        resolver_(executor),
        stream_(executor, context_->context()),
        address_(std::move(address)) {}

  void async_connect(ConnectHandler done) override {
    const std::string& name =
        context_->options().server_name.empty() ? address_.host : context_->options().server_name;
    error_code not_an_address;
    asio::ip::make_address(name, not_an_address);
    SSL* ssl = stream_.native_handle();
    // SNI carries host names only (RFC 6066), never addresses.
    if (not_an_address && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
      return done("cannot use '" + name + "' as the TLS server name");
    }
    // OpenSSL checks the name (or IP address SAN) along with the chain, so
    // a mismatch is reported like any other verification failure.
    const bool name_set =
        not_an_address ? SSL_set1_host(ssl, name.c_str()) == 1
                       : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
    if (!name_set) return done("cannot verify the TLS server name '" + name + "'");
    async_connect_tcp(
        shared_from_this(), resolver_, stream_.next_layer(), address_,
        [self = shared_from_this(), name, done = std::move(done)](std::string failure) mutable {
          if (!failure.empty()) return done(std::move(failure));
          self->handshake(name, std::move(done));
        });
  }

  void async_write(std::string_view bytes, IoHandler done) override {
    asio::async_write(stream_, asio::buffer(bytes),
                      [self = shared_from_this(), done = std::move(done)](
                          error_code ec, std::size_t size) mutable { done(ec, size); });
  }

  void async_read_some(std::span<char> into, IoHandler done) override {
    stream_.async_read_some(asio::buffer(into.data(), into.size()),
                            [self = shared_from_this(), done = std::move(done)](
                                error_code ec, std::size_t size) mutable { done(ec, size); });
  }

  void close() noexcept override {
    resolver_.cancel();
    error_code ignored;
    stream_.next_layer().close(ignored);
  }

 private:
  void handshake(const std::string& name, ConnectHandler done) {
    stream_.async_handshake(
        ssl::stream_base::client,
        [self = shared_from_this(), name, done = std::move(done)](error_code ec) mutable {
          if (!ec) return done({});
          std::string why = "TLS handshake with " + self->address_.describe() + " failed: ";
          const long verify = SSL_get_verify_result(self->stream_.native_handle());
          if (verify != X509_V_OK) {
            why += "certificate verification failed: ";
            why += X509_verify_cert_error_string(verify);
            why += " (verifying '" + name + "')";
          } else {
            why += ec.message();
          }
          done(std::move(why));
        });
  }

  std::shared_ptr<const OpenSslContext> context_;
  tcp::resolver resolver_;
  ssl::stream<tcp::socket> stream_;
  ServerAddress address_;
};

}  // namespace

std::shared_ptr<const TlsContext> TlsContext::create(const TlsOptions& options) {
  return std::make_shared<const OpenSslContext>(options);
}

std::shared_ptr<Transport> make_tls_transport(const asio::any_io_executor& executor,
                                              const ServerAddress& address,
                                              std::shared_ptr<const TlsContext> context) {
  return std::make_shared<TlsTransport>(
      executor, address, std::static_pointer_cast<const OpenSslContext>(std::move(context)));
}

}  // namespace distkit::detail
