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
//   node's connection, within the deadline (after ASKING again when the
//   request came by ASK).
// - A lost master: requests in flight fail with Errc::connection (they may
//   have run); the others stay queued while the node's connection asks the
//   cluster for the current map on every reconnect attempt, and follows its
//   slots to the replica promoted in its place.
// - A request whose keys span slots fails with Errc::invalid_argument; a
//   request without keys goes to the first master known.
//
// Order: the requests of one slot that run, run in issue order, also when
// the slot moves. While it stays put they go over one connection, FIFO.
// When it leaves a master (MOVED, or a map refresh that moves it), its gate
// closes (SlotGate): new requests of the slot are held, and a fence for the
// slot goes on the old master's connection; the slot's requests sent there
// before come back redirected and are sent on in order, and once the fence
// has passed (other slots' requests do not hold it up) the held requests
// follow them to the new owner, in issue order. Routing stays lock-free
// while no gate is closed. A held request keeps its deadline
// (Errc::timeout, never sent) and close() fails it with Errc::closed. ASK
// needs no gate: requests the migrating master sends on reach the
// importing one in the order it answered them.
//
// Failures leave gaps, not reorderings: a request that failed with
// Errc::connection (a lost master) or Errc::timeout after it was sent may
// or may not have run (if it did, before the requests issued after it, and
// asynchronous replication may still lose it in a failover); one refused
// (TRYAGAIN, ...) and overtaken on its connection by a later one that ran
// fails with Errc::connection without having run. While a slot migrates,
// its keys sit on two masters, so requests of different keys of the slot
// may run in either order; those of one key keep theirs.
std::shared_ptr<Connection> open_cluster_connection(const boost::asio::any_io_executor& executor,
                                                    Connection::Settings settings);

}  // namespace distkit::detail
