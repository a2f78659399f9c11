// A private Redis Cluster for tests: masters and one replica each, every
// node a redis-server --cluster-enabled yes on a free loopback port, started
// by tools/common's LocalRedisCluster.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "local_redis_cluster.hpp"

namespace distkit::test {

class RedisCluster {
 public:
  // Starts 2 * `masters` nodes, joins them with redis-cli --cluster create
  // (--cluster-replicas 1) and waits until every node reports
  // cluster_state:ok and every replica is in sync. A node that stops
  // answering is failed over after `node_timeout`. Throws std::runtime_error
  // when the cluster does not come up within a minute; the destructor (and
  // so a failing test) stops every node and removes their files.
  explicit RedisCluster(int masters = 3,
                        std::chrono::milliseconds node_timeout = std::chrono::milliseconds(1000));
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // redis-cluster://127.0.0.1:<port>,... listing every node as a seed.
  std::string url() const;

  // The ports of the current masters, by CLUSTER NODES.
  std::vector<std::string> master_ports() const;
  // The node ID of the node at `port`.
  std::string node_id(const std::string& port) const;
  // redis-cli -p <port> <args...>, its output.
  std::string cli(const std::string& port, const std::vector<std::string>& args) const;
  // The port of a live node other than `except`, to ask about the cluster.
  std::string any_port(const std::string& except = "") const;

  // SIGKILL of the node at `port`.
  void kill(const std::string& port);
  // True once every live node says cluster_state:ok and agrees on the slot
  // map (redis-cli --cluster check), within `timeout`.
  bool wait_healthy(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // Waits until wait_healthy(), then moves `slots` slots from the master at
  // `from` to the master at `to` with redis-cli --cluster reshard; returns
  // its exit code (-1 when the cluster did not become healthy).
  int reshard(const std::string& from, const std::string& to, int slots) const;

  const std::vector<std::string>& ports() const noexcept { return ports_; }

 private:
  tools::LocalRedisServer& node(const std::string& port) const;

  tools::LocalRedisCluster cluster_;
  std::vector<std::string> ports_;
};

}  // namespace distkit::test
