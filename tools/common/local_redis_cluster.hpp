// A private Redis Cluster for the distkit tool's `demo --cluster` and the
// tests' cluster fixture: every node a LocalRedisServer started with
// --cluster-enabled yes on a free loopback port.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "local_redis_server.hpp"

namespace distkit::tools {

// A master of a LocalRedisCluster and the hash slots it was given.
struct ClusterMaster {
  std::uint16_t port = 0;
  std::vector<std::pair<std::uint16_t, std::uint16_t>> slot_ranges;  // first, last (inclusive)

  bool owns(std::uint16_t slot) const noexcept;
};

// What a LocalRedisCluster is made of.
struct LocalClusterOptions {
  int masters = 3;
  int replicas_per_master = 0;
  // Added to every node's command line, e.g. {"--cluster-node-timeout", "1000"}.
  std::vector<std::string> node_args;
  // Every node also serves TLS on a second port, and the nodes speak TLS
  // to each other (tls-cluster, tls-replication), all with certificates of
  // one CA (ca_file()).
  bool tls = false;
  // Set as every node's requirepass and masterauth.
  std::string password;
};

// Starts masters * (1 + replicas_per_master) nodes, each in its own
// temporary directory (with its nodes.conf), with a cluster bus on a second
// free port and `node_args` (e.g. {"--cluster-node-timeout", "1000"}), joins
// them with `redis-cli --cluster create ... --cluster-replicas
// <replicas_per_master> --cluster-yes` and waits until every node reports
// cluster_state:ok (replicas may still be syncing). The destructor stops
// every node and removes the directories, and so does a termination signal
// once clean_up_on_termination_signals() is in effect (LocalRedisServer's
// tracking). Throws std::runtime_error, leaving nothing behind, when a node
// cannot start, redis-cli fails or the cluster is not ok within 30 s.
class LocalRedisCluster {
 public:
  explicit LocalRedisCluster(int masters = 3, int replicas_per_master = 0,
                             const std::vector<std::string>& node_args = {});
  explicit LocalRedisCluster(const LocalClusterOptions& options);
  ~LocalRedisCluster();
  LocalRedisCluster(const LocalRedisCluster&) = delete;
  LocalRedisCluster& operator=(const LocalRedisCluster&) = delete;

  // redis-cluster://127.0.0.1:<port>,... listing every node as a seed (by
  // its plain port), with the password if there is one.
  std::string url() const;
  // rediss-cluster://127.0.0.1:<tls port>,... (with the password); empty
  // without TLS.
  std::string tls_url() const;
  // The CA that signed every node's certificate; empty without TLS.
  std::string ca_file() const;
  // The masters as created, with their slots (not updated by failovers or
  // resharding).
  const std::vector<ClusterMaster>& masters() const noexcept { return masters_; }
  // Every node's port, in the order they were started.
  std::vector<std::uint16_t> ports() const;
  // The node at `port`, to stop, crash or restart; throws std::out_of_range
  // for another port.
  LocalRedisServer& node(std::uint16_t port) const;

 private:
  void start_nodes(const LocalClusterOptions& options);
  void remove_certificates();
  std::string cluster_url(bool tls) const;

  std::string password_;
  std::string certificate_directory_;  // empty without TLS
  std::vector<std::unique_ptr<LocalRedisServer>> nodes_;
  std::vector<ClusterMaster> masters_;
};

}  // namespace distkit::tools
