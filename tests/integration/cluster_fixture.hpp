// Shared setup of the Redis Cluster tests: a client on a private cluster
// (tests/support/redis_cluster.hpp), prefixes whose counters land in
// chosen slots, and which master serves a slot.
#pragma once

#include <chrono>
#include <cstdint>
#include <distkit/distkit.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "client/cluster_slot.hpp"
#include "redis_cluster.hpp"
#include "test_env.hpp"

namespace distkit::test {

constexpr std::chrono::milliseconds command_timeout{2000};
// How much later than command_timeout a call may return: scheduling on a
// loaded 2-core machine, not a retry.
constexpr std::chrono::milliseconds return_slack{1000};

inline std::shared_ptr<Client> cluster_client(const RedisCluster& cluster,
                                              std::chrono::milliseconds timeout = command_timeout) {
  ClientOptions options;
  options.url = cluster.url();
  options.command_timeout = timeout;
  return Client::connect(options);
}

// `count` prefixes whose counter hashes (kind "strict_counter" or
// "lax_counter") have a slot in [first_slot, last_slot].
inline std::vector<RedisKey> prefixes_in_slots(const std::string& kind, int count, int first_slot,
                                               int last_slot) {
  std::vector<RedisKey> prefixes;
  const std::string base = unique_prefix().str();
  for (int i = 0; static_cast<int>(prefixes.size()) < count; ++i) {
    const std::string prefix = base + "-" + std::to_string(i);
    const int slot = detail::cluster_key_slot(prefix + ":" + kind);
    if (slot >= first_slot && slot <= last_slot) prefixes.emplace_back(prefix);
  }
  return prefixes;
}

// The port of the master serving `slot`, from CLUSTER SLOTS as redis-cli
// prints it (first, last, then host, port, id of each node, one per line).
inline std::string master_of_slot(const RedisCluster& cluster, int slot) {
  const std::string text = cluster.cli(cluster.any_port(), {"CLUSTER", "SLOTS"});
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  lines.push_back(text.substr(start));
  for (std::size_t i = 0; i + 4 < lines.size(); ++i) {
    // A range starts with two numbers followed by the master's IP.
    if (lines[i + 2].find('.') == std::string::npos ||
        lines[i].find_first_not_of("0123456789") != std::string::npos ||
        lines[i + 1].find_first_not_of("0123456789") != std::string::npos || lines[i].empty() ||
        lines[i + 1].empty()) {
      continue;
    }
    if (std::stoi(lines[i]) <= slot && slot <= std::stoi(lines[i + 1])) return lines[i + 3];
  }
  return {};
}

// The port of a master other than the one at `port`.
inline std::string other_master(const RedisCluster& cluster, const std::string& port) {
  for (const auto& master : cluster.master_ports()) {
    if (master != port) return master;
  }
  return {};
}

// How often the node at `port` answered with the error `code` (ASK, MOVED,
// TRYAGAIN), by INFO errorstats.
inline std::int64_t errors_answered(const RedisCluster& cluster, const std::string& port,
                                    const std::string& code) {
  std::istringstream lines(cluster.cli(port, {"INFO", "errorstats"}));
  const std::string field = "errorstat_" + code + ":count=";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(field.size()));
  }
  return 0;
}

// The same, summed over every node of the cluster.
inline std::int64_t errors_answered(const RedisCluster& cluster, const std::string& code) {
  std::int64_t total = 0;
  for (const auto& port : cluster.ports()) total += errors_answered(cluster, port, code);
  return total;
}

}  // namespace distkit::test
