#include "redis_cluster.hpp"

#include <sstream>
#include <stdexcept>

#include "process.hpp"
#include "test_env.hpp"

namespace distkit::test {

RedisCluster::RedisCluster(int masters, std::chrono::milliseconds node_timeout)
    : cluster_(masters, 1, {"--cluster-node-timeout", std::to_string(node_timeout.count())}) {
  for (const std::uint16_t port : cluster_.ports()) ports_.push_back(std::to_string(port));
  const bool replicas_in_sync = wait_until(
      [&] {
        for (const auto& port : ports_) {
          const std::string replication = cli(port, {"INFO", "replication"});
          if (replication.find("role:slave") != std::string::npos &&
              replication.find("master_link_status:up") == std::string::npos) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(30));
  if (!replicas_in_sync || !wait_healthy(std::chrono::seconds(30))) {
    throw std::runtime_error("the test cluster did not become healthy");
  }
}

tools::LocalRedisServer& RedisCluster::node(const std::string& port) const {
  return cluster_.node(static_cast<std::uint16_t>(std::stoi(port)));
}

std::string RedisCluster::url() const {
  return cluster_.url();
}

std::string RedisCluster::cli(const std::string& port, const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"redis-cli", "-p", port};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv).output;
}

std::string RedisCluster::any_port(const std::string& except) const {
  for (const auto& port : ports_) {
    if (port != except && node(port).running()) return port;
  }
  throw std::runtime_error("no live cluster node");
}

std::vector<std::string> RedisCluster::master_ports() const {
  // CLUSTER NODES: <id> <ip:port@cport> <flags> ...; masters that failed
  // carry "fail" in their flags.
  std::istringstream lines(cli(any_port(), {"CLUSTER", "NODES"}));
  std::vector<std::string> masters;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, address, flags;
    fields >> id >> address >> flags;
    if (flags.find("master") == std::string::npos || flags.find("fail") != std::string::npos) {
      continue;
    }
    const auto colon = address.find(':');
    masters.push_back(address.substr(colon + 1, address.find('@') - colon - 1));
  }
  return masters;
}

std::string RedisCluster::node_id(const std::string& port) const {
  return cli(port, {"CLUSTER", "MYID"});
}

void RedisCluster::kill(const std::string& port) {
  node(port).crash();
}

bool RedisCluster::wait_healthy(std::chrono::milliseconds timeout) const {
  return wait_until(
      [&] {
        for (const auto& port : ports_) {
          if (node(port).running() &&
              cli(port, {"CLUSTER", "INFO"}).find("cluster_state:ok") == std::string::npos) {
            return false;
          }
        }
        return run({"redis-cli", "--cluster", "check", "127.0.0.1:" + any_port()}).exit_code == 0;
      },
      timeout);
}

int RedisCluster::reshard(const std::string& from, const std::string& to, int slots) const {
  // redis-cli refuses to reshard while the nodes disagree on the slot map,
  // which they do for a moment after every move (gossip spreads the new
  // owner's epoch).
  if (!wait_healthy()) return -1;
  return run({"redis-cli", "--cluster", "reshard", "127.0.0.1:" + from, "--cluster-from",
              node_id(from), "--cluster-to", node_id(to), "--cluster-slots", std::to_string(slots),
              "--cluster-yes"})
      .exit_code;
}

}  // namespace distkit::test
