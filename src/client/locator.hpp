// Where a connection goes next: a fixed address, or the master Sentinel
// names. The seam between one connection and the topology above it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "client/transport.hpp"
#include "client/unique_function.hpp"

namespace distkit::detail {

class Locator {
 public:
  // Receives the address to connect to, or nullopt and why none was found.
  using Located = UniqueFunction<void(std::optional<ServerAddress>, std::string failure)>;
  // Receives why the server the connection uses is no longer the right one
  // (e.g. Sentinel announced a failover).
  using Moved = UniqueFunction<void(std::string why)>;

  virtual ~Locator() = default;

  // Finds the server for the next connection attempt. Runs on, and
  // completes on, the connection's strand.
  virtual void async_locate(Located done) = 0;

  // Whether the handshake must confirm with ROLE that the server is a
  // master (it was named by someone else and may be stale).
  virtual bool requires_master() const noexcept = 0;

  // Starts watching for moves, reporting them through `moved` on the
  // connection's strand. The default watches nothing.
  virtual void watch(Moved moved) { (void)moved; }

  // Stops every background activity. Called on the strand; idempotent.
  virtual void close() = 0;
};

// Always the same address.
std::unique_ptr<Locator> make_fixed_locator(const boost::asio::any_io_executor& strand,
                                            ServerAddress address);

}  // namespace distkit::detail
