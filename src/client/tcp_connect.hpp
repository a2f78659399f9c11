// Resolving and connecting a TCP socket, shared by the plain and TLS
// transports.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "client/transport.hpp"

namespace distkit::detail {

// Resolves address.host and connects `socket` to the first endpoint that
// answers, with TCP_NODELAY and keep-alive set. `owner` keeps `resolver`
// and `socket` alive until `done` runs.
void async_connect_tcp(std::shared_ptr<void> owner, boost::asio::ip::tcp::resolver& resolver,
                       boost::asio::ip::tcp::socket& socket, const ServerAddress& address,
                       Transport::ConnectHandler done);

}  // namespace distkit::detail
