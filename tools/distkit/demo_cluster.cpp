#include "demo_cluster.hpp"

#include <unistd.h>

#include <iostream>

#include "client/cluster_slot.hpp"
#include "command_inputs.hpp"
#include "counters/shard_layout.hpp"
#include "json.hpp"
#include "number_format.hpp"
#include "raw_redis.hpp"
#include "redis_endpoint.hpp"
#include "text_table.hpp"

namespace distkit::tools {
namespace {

// How many of `layout`'s hashes live in slots `master` owns.
std::size_t shards_held(const ClusterMaster& master, const detail::ShardLayout& layout) {
  std::size_t held = 0;
  for (std::size_t shard = 0; shard < layout.count(); ++shard) {
    if (master.owns(detail::cluster_key_slot(layout.hash(shard)))) ++held;
  }
  return held;
}

}  // namespace

RedisKey prefix_spread_over(const RedisKey& base, const std::vector<ClusterMaster>& masters,
                            int shards) {
  if (static_cast<std::size_t>(shards) < masters.size()) return base;
  constexpr int tries = 1000;
  for (int n = 0; n < tries; ++n) {
    const RedisKey prefix(base.str() + "_" + std::to_string(n));
    const detail::ShardLayout layout(prefix, "strict_counter", shards);
    bool every_master = true;
    for (const ClusterMaster& master : masters) {
      every_master = every_master && shards_held(master, layout) > 0;
    }
    if (every_master) return prefix;
  }
  return base;
}

RedisKey demo_prefix(const GlobalOptions& global, const RedisTarget& target, int shards) {
  const RedisKey base = prefix_option(global.prefix, "_demo_" + std::to_string(getpid()));
  if (target.cluster() == nullptr) return base;
  return prefix_spread_over(base, target.cluster()->masters(), shards);
}

std::vector<std::int64_t> commands_processed(const LocalRedisCluster& cluster) {
  std::vector<std::int64_t> counts;
  for (const ClusterMaster& master : cluster.masters()) {
    RawRedis redis(RedisEndpoint::parse("redis://127.0.0.1:" + std::to_string(master.port)));
    const std::string stats = redis.query({"INFO", "stats"});
    const std::string field = "total_commands_processed:";
    const auto at = stats.find(field);
    counts.push_back(at == std::string::npos ? 0 : std::stoll(stats.substr(at + field.size())));
  }
  return counts;
}

std::vector<MasterLoad> master_loads(const LocalRedisCluster& cluster, const RedisKey& prefix,
                                     int shards, const std::vector<std::int64_t>& before) {
  const std::vector<std::int64_t> after = commands_processed(cluster);
  const detail::ShardLayout layout(prefix, "strict_counter", shards);
  std::vector<MasterLoad> loads;
  for (std::size_t i = 0; i < cluster.masters().size(); ++i) {
    const ClusterMaster& master = cluster.masters()[i];
    loads.push_back({master.port, shards_held(master, layout), after[i] - before[i]});
  }
  return loads;
}

void print_master_loads(const std::vector<MasterLoad>& loads, int shards, double seconds) {
  std::vector<TableRow> rows{{"master", "strict shards", "commands", "commands/s"}};
  for (const MasterLoad& load : loads) {
    rows.push_back({"127.0.0.1:" + std::to_string(load.port), std::to_string(load.strict_shards),
                    with_thousands(load.commands),
                    with_thousands(static_cast<std::int64_t>(load.commands / seconds))});
  }
  std::cout << render_table(rows) << "Both counters have " << shards
            << " shards; commands: the master's INFO stats total_commands_processed while the "
               "workers ran.\n";
}

std::string master_loads_json(const std::vector<MasterLoad>& loads, double seconds) {
  std::vector<std::string> rows;
  for (const MasterLoad& load : loads) {
    rows.push_back(JsonObject()
                       .add_string("master", "127.0.0.1:" + std::to_string(load.port))
                       .add_int("strict_shards", static_cast<std::int64_t>(load.strict_shards))
                       .add_int("commands", load.commands)
                       .add_number("ops_per_second", static_cast<double>(load.commands) / seconds)
                       .str());
  }
  return json_array(rows);
}

}  // namespace distkit::tools
