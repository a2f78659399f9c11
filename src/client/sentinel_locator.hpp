// Finding the master through Redis Sentinel.
#pragma once

#include <chrono>
#include <memory>

#include "client/locator.hpp"
#include "client/url.hpp"

namespace distkit::detail {

// A Locator for the redis-sentinel and rediss-sentinel schemes. It asks the
// sentinels of `url` in turn (starting with the last one that answered) for
// the address of url.master_name; the connection then confirms with ROLE
// that the server is the master. While watched, it listens to one
// sentinel's +switch-master announcements (moving to the next sentinel when
// that one goes away) and reports a failover of its master at once. Each
// sentinel gets `timeout` to answer. With `tls`, sentinels are reached over
// TLS too.
std::unique_ptr<Locator> make_sentinel_locator(const boost::asio::any_io_executor& strand,
                                               const RedisUrl& url,
                                               std::shared_ptr<const TlsContext> tls,
                                               std::chrono::milliseconds timeout);

}  // namespace distkit::detail
