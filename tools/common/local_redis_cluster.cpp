#include "local_redis_cluster.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "child_process.hpp"
#include "termination_cleanup.hpp"
#include "tls_certificates.hpp"

namespace distkit::tools {
namespace {

// `command` on the node at `port`, its reply's text; empty when the node
// does not answer or the reply is not text.
std::string query_text(std::uint16_t port, const std::string& password, const char* command) {
  const timeval timeout{1, 0};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (context == nullptr) return {};
  std::string text;
  if (context->err == 0 && !password.empty()) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "AUTH %s", password.c_str()));
    if (reply != nullptr) freeReplyObject(reply);
  }
  if (context->err == 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, command));
    if (reply != nullptr && reply->type == REDIS_REPLY_STRING) text.assign(reply->str, reply->len);
    if (reply != nullptr) freeReplyObject(reply);
  }
  redisFree(context);
  return text;
}

// The slot ranges on the "myself" line of CLUSTER NODES:
// <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slots...>.
std::vector<std::pair<std::uint16_t, std::uint16_t>> own_slot_ranges(std::uint16_t port,
                                                                     const std::string& password) {
  std::istringstream lines(query_text(port, password, "CLUSTER NODES"));
  std::vector<std::pair<std::uint16_t, std::uint16_t>> ranges;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, address, flags, master, ping, pong, epoch, link;
    fields >> id >> address >> flags >> master >> ping >> pong >> epoch >> link;
    if (flags.find("myself") == std::string::npos) continue;
    for (std::string range; fields >> range;) {
      if (range.starts_with('[')) continue;  // a slot being migrated
      const auto dash = range.find('-');
      const int first = std::stoi(range.substr(0, dash));
      const int last = dash == std::string::npos ? first : std::stoi(range.substr(dash + 1));
      ranges.emplace_back(static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last));
    }
  }
  return ranges;
}

}  // namespace

bool ClusterMaster::owns(std::uint16_t slot) const noexcept {
  for (const auto& [first, last] : slot_ranges) {
    if (first <= slot && slot <= last) return true;
  }
  return false;
}

LocalRedisCluster::LocalRedisCluster(int masters, int replicas_per_master,
                                     const std::vector<std::string>& node_args)
    : LocalRedisCluster(LocalClusterOptions{masters, replicas_per_master, node_args, false, {}}) {}

LocalRedisCluster::LocalRedisCluster(const LocalClusterOptions& options)
    : password_(options.password) {
  try {
    start_nodes(options);
  } catch (...) {
    remove_certificates();  // the destructor does not run for a failed constructor
    throw;
  }
}

LocalRedisCluster::~LocalRedisCluster() {
  nodes_.clear();  // stops the nodes before their certificates go
  remove_certificates();
}

void LocalRedisCluster::start_nodes(const LocalClusterOptions& options) {
  std::vector<std::string> node_args{"--cluster-enabled", "yes"};
  if (options.tls) {
    certificate_directory_ = make_tracked_directory("distkit-cluster-tls");
    make_server_certificates(certificate_directory_);
    node_args.insert(node_args.end(), {"--tls-cluster", "yes", "--tls-replication", "yes"});
  }
  if (!password_.empty()) {
    node_args.insert(node_args.end(), {"--requirepass", password_, "--masterauth", password_});
  }
  node_args.insert(node_args.end(), options.node_args.begin(), options.node_args.end());
  std::vector<std::string> create{"redis-cli", "--cluster", "create"};
  for (int i = 0; i < options.masters * (1 + options.replicas_per_master); ++i) {
    // The bus port defaults to port + 10000, which may be taken or past
    // 65535. A node's nodes.conf goes to its own directory (--dir).
    std::vector<std::string> args{"--cluster-port", std::to_string(free_loopback_port())};
    args.insert(args.end(), node_args.begin(), node_args.end());
    nodes_.push_back(std::make_unique<LocalRedisServer>(
        std::move(args), options.tls ? LocalListeners::plain_and_tls : LocalListeners::plain,
        certificate_directory_));
    create.push_back("127.0.0.1:" + std::to_string(nodes_.back()->port()));
  }
  create.insert(create.end(), {"--cluster-replicas", std::to_string(options.replicas_per_master),
                               "--cluster-yes"});
  if (!password_.empty()) create.insert(create.end(), {"-a", password_, "--no-auth-warning"});
  // redis-cli's progress report means nothing to the tool's user.
  if (wait_for_exit(spawn(create, ChildOutput::silence).pid) != 0) {
    throw std::runtime_error("redis-cli --cluster create failed (is it installed?)");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (const auto& node : nodes_) {
    while (query_text(node->port(), password_, "CLUSTER INFO").find("cluster_state:ok") ==
           std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("the private Redis Cluster did not reach cluster_state:ok");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto slots = own_slot_ranges(node->port(), password_);
    if (!slots.empty()) masters_.push_back({node->port(), std::move(slots)});
  }
}

void LocalRedisCluster::remove_certificates() {
  if (certificate_directory_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(certificate_directory_, ignored);
  untrack_directory(certificate_directory_);
}

std::vector<std::uint16_t> LocalRedisCluster::ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& node : nodes_) ports.push_back(node->port());
  return ports;
}

LocalRedisServer& LocalRedisCluster::node(std::uint16_t port) const {
  for (const auto& node : nodes_) {
    if (node->port() == port) return *node;
  }
  throw std::out_of_range("no cluster node on port " + std::to_string(port));
}

std::string LocalRedisCluster::url() const {
  return cluster_url(false);
}

std::string LocalRedisCluster::tls_url() const {
  return certificate_directory_.empty() ? "" : cluster_url(true);
}

std::string LocalRedisCluster::ca_file() const {
  return certificate_directory_.empty() ? "" : certificate_directory_ + "/" + ca_certificate_file;
}

std::string LocalRedisCluster::cluster_url(bool tls) const {
  std::string url = tls ? "rediss-cluster://" : "redis-cluster://";
  if (!password_.empty()) url += ":" + password_ + "@";
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto port = tls ? nodes_[i]->tls_port() : nodes_[i]->port();
    url += (i == 0 ? "127.0.0.1:" : ",127.0.0.1:") + std::to_string(port);
  }
  return url;
}

}  // namespace distkit::tools
