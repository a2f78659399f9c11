#include "instance_commands.hpp"

#include <CLI/CLI.hpp>
#include <distkit/distkit.hpp>
#include <iostream>
#include <memory>
#include <sstream>

#include "command_inputs.hpp"
#include "exit_codes.hpp"
#include "instance_demo.hpp"
#include "json.hpp"
#include "raw_redis.hpp"
#include "redis_endpoint.hpp"
#include "redis_target.hpp"

namespace distkit::tools {
namespace {

// Instance-aware counters have one layout; --shards is for the strict and
// lax counters only.
void refuse_shards(const GlobalOptions& options) {
  if (options.shards == 1) return;
  throw ToolError(exit_usage, "--shards " + std::to_string(options.shards) +
                                  ": instance-aware counters are not sharded (--shards applies "
                                  "to the strict and lax counters only)");
}

std::shared_ptr<InstanceAwareCounter> instance_counter(const GlobalOptions& options) {
  refuse_shards(options);
  InstanceAwareCounterOptions counter_options(prefix_option(options.prefix),
                                              Client::connect(operator_client_options(options)));
  // The lax counter's destructor flushes what the command buffered.
  if (options.lax) return LaxInstanceAwareCounter::create(counter_options);
  return StrictInstanceAwareCounter::create(counter_options);
}

InstanceCount apply(InstanceAwareCounter& counter, std::string_view command, const RedisKey& key,
                    std::int64_t amount) {
  if (command == "inc") return counter.inc(key, amount);
  if (command == "dec") return counter.dec(key, amount);
  if (command == "set") return counter.set(key, amount);
  if (command == "del") return counter.del(key);
  return counter.get(key);
}

// One line per instance, "id last_heartbeat_ms age_ms slices", computed by
// Redis in one step (TIME and the zset read together).
constexpr const char* list_instances_lua = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lines = {}
local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  local slices = redis.call('HLEN', ARGV[1] .. all[i])
  lines[#lines + 1] = all[i] .. ' ' .. all[i + 1] .. ' ' .. (now - tonumber(all[i + 1])) .. ' ' .. slices
end
return table.concat(lines, '\n')
)lua";

int run_instances(const GlobalOptions& options, std::int64_t threshold_ms) {
  refuse_shards(options);
  const RedisKey prefix = prefix_option(options.prefix);
  // A lax instance-aware counter has keys of its own, as the Rust distkit's.
  const std::string base =
      prefix.str() + (options.lax ? ":lax_instance_aware_counter" : ":instance_aware_counter");
  RawRedis redis(RedisEndpoint::parse(operator_client_options(options).url));
  std::istringstream lines(
      redis.query({"EVAL", list_instances_lua, "1", base + ":instances", base + ":count:"}));
  std::vector<std::string> entries;
  std::string id;
  std::int64_t heartbeat = 0, age = 0, slices = 0;
  if (!options.json)
    std::cout
        << "instance                              last heartbeat (ms)  age (ms)  slices  state\n";
  while (lines >> id >> heartbeat >> age >> slices) {
    const char* state = age > threshold_ms ? "dead" : "live";
    if (options.json) {
      entries.push_back(JsonObject()
                            .add_string("instance", id)
                            .add_int("last_heartbeat_ms", heartbeat)
                            .add_int("age_ms", age)
                            .add_int("slices", slices)
                            .add_string("state", state)
                            .str());
    } else {
      std::cout << id << "  " << heartbeat << "  " << age << "  " << slices << "  " << state
                << '\n';
    }
  }
  if (options.json)
    std::cout << JsonObject().add_json("instances", json_array(entries)).str() << '\n';
  return exit_ok;
}

}  // namespace

int run_instance_single_key(const GlobalOptions& options, std::string_view command,
                            const RedisKey& key, std::int64_t amount) {
  auto counter = instance_counter(options);
  const InstanceCount result = apply(*counter, command, key, amount);
  if (options.json) {
    std::cout << JsonObject()
                     .add_bytes("key", key.str())
                     .add_int("cumulative", result.cumulative)
                     .add_int("instance", result.instance)
                     .add_string("instance_id", counter->instance_id())
                     .str()
              << '\n';
  } else {
    std::cout << result.cumulative << " (this instance: " << result.instance << ")\n";
  }
  return exit_ok;
}

int run_instance_clear(const GlobalOptions& options) {
  instance_counter(options)->clear();
  std::cout << (options.json ? JsonObject().add_bool("cleared", true).str() : "cleared") << '\n';
  return exit_ok;
}

void add_instance_commands(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto threshold = std::make_shared<std::int64_t>(30000);
  auto* sub = app.add_subcommand(
      "instances",
      "List the instances of the instance-aware counter with their last heartbeat (--lax: of the "
      "lax instance-aware counter)");
  sub->add_option("--threshold", *threshold,
                  "dead-instance threshold in ms, to mark the instances past it")
      ->capture_default_str()
      ->check(canonical_int64(0));
  sub->callback([&options, &exit_code, threshold] {
    exit_code = run_reporting_failure([&] { return run_instances(options, *threshold); });
  });
  add_instance_demo_worker(app, options, exit_code);
}

}  // namespace distkit::tools
