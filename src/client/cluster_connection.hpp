// Redis Cluster behind the Connection interface.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "client/connection.hpp"

namespace distkit::detail {

// Asks the seed nodes of `settings.url` (a cluster scheme) for the slot map,
// in turn, and returns a Connection that routes every request to the master
// of its keys' slot (Request::slot()), over one auto-pipelined connection
// per master sharing one strand. Blocks until the slot map is known; throws
// Error{Errc::connection} when no seed answers within connect_timeout.
//
// Routing:
// - MOVED updates the map for that slot, refreshes the whole map in the
//   background (at most every 100 ms) and sends the request to the new
//   owner; ASK sends ASKING and the request to the importing node. A
//   request follows at most 16 redirections, all within its deadline.
// - TRYAGAIN, CLUSTERDOWN and LOADING are retried on the same node by the
//   node's connection, within the deadline.
// - A lost master: requests in flight fail with Errc::connection (they may
//   have run); the others stay queued while the node's connection asks the
//   cluster for the current map on every reconnect attempt, and follows its
//   slots to the replica promoted in its place.
// - A request whose keys span slots fails with Errc::invalid_argument; a
//   request without keys goes to the first master known.
//
// Order: requests of one slot go over one connection in issue order while
// the slot stays put. Requests redirected by MOVED or ASK are sent again in
// the order their redirections arrive, which is their issue order; a
// request issued while an earlier one of its slot is being redirected may
// reach the new owner first.
std::shared_ptr<Connection> open_cluster_connection(const boost::asio::any_io_executor& executor,
                                                    Connection::Settings settings);

}  // namespace distkit::detail
