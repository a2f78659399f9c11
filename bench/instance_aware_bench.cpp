// Strict instance-aware inc at a fixed depth of calls in flight, against the
// Rust distkit's per-call script shape reproduced as the baseline: the same
// Redis, the same auto-pipelined connection, the same depth, alternating
// rounds. Usage: REDIS_URL=redis://127.0.0.1:6379 distkit_instance_aware_bench
//   [depth=64] [calls per round=200000] [rounds=3]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <functional>
#include <future>
#include <iostream>
#include <string>
#include <vector>

#include "client/client_access.hpp"
#include "client/request.hpp"
#include "client/script.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// The reference's inc, per call: TIME, heartbeat (ZSCORE + ZADD), the
// dead-instance scan (ZRANGE BYSCORE, unbounded), three reads (epoch,
// cumulative, slice), two increments and the SADD of the key, values as
// Lua numbers. Written for this benchmark from the documented behaviour.
const distkit::detail::Script& reference_inc_script() {
  static const distkit::detail::Script script(R"lua(
local epoch_hash, instances, totals, key_set, mine = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local field, delta = ARGV[1], tonumber(ARGV[2])
local seen_epoch, threshold, base, me = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local known = redis.call('ZSCORE', instances, me)
redis.call('ZADD', instances, now, me)
for _, id in ipairs(redis.call('ZRANGE', instances, '-inf', now - threshold, 'BYSCORE')) do
  local fields = redis.call('SMEMBERS', key_set)
  local hash = base .. ':count:' .. id
  if #fields > 0 then
    local values = redis.call('HMGET', hash, unpack(fields))
    for i = 1, #values do
      local v = tonumber(values[i] or 0) or 0
      if v ~= 0 then redis.call('HINCRBY', totals, fields[i], -v) end
    end
  end
  redis.call('DEL', hash)
  redis.call('ZREM', instances, id)
end
local epoch = tonumber(redis.call('HGET', epoch_hash, field) or 0) or 0
local total = tonumber(redis.call('HGET', totals, field) or 0) or 0
local slice = tonumber(redis.call('HGET', mine, field) or 0) or 0
local new_slice
if epoch ~= seen_epoch then
  redis.call('HSET', mine, field, delta)
  new_slice = delta
else
  new_slice = tonumber(redis.call('HINCRBY', mine, field, delta))
end
local new_total = tonumber(redis.call('HINCRBY', totals, field, delta))
redis.call('SADD', key_set, field)
return {field, new_total, new_slice, total, slice, epoch, known and 0 or 1}
)lua");
  return script;
}

// Runs `total` calls of `start`, keeping `depth` in flight; returns calls/s.
double run(int depth, int total, const std::function<void(std::function<void()>)>& start) {
  std::atomic<int> started{0}, finished{0};
  std::promise<void> all_done;
  std::function<void()> next = [&] {
    if (started.fetch_add(1) >= total) return;
    start([&] {
      const bool last = finished.fetch_add(1) + 1 == total;
      next();
      if (last) all_done.set_value();  // nothing of this frame is used after
    });
  };
  const auto begin = Clock::now();
  for (int i = 0; i < depth; ++i) next();
  all_done.get_future().wait();
  return total / std::chrono::duration<double>(Clock::now() - begin).count();
}

// Redis's own time spent in EVALSHA so far, in µs (INFO commandstats).
double evalsha_usec(distkit::detail::Connection& connection) {
  std::promise<std::string> info;
  connection.execute(
      distkit::detail::RequestBuilder("INFO").arg("commandstats").build(),
      [&](boost::system::error_code, distkit::detail::Reply reply) { info.set_value(reply.text); });
  const std::string text = info.get_future().get();
  const auto at = text.find("cmdstat_evalsha:");
  if (at == std::string::npos) return 0;
  const auto usec = text.find("usec=", at);
  return std::stod(text.substr(usec + 5));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const char* url = std::getenv("REDIS_URL");
  if (!url) {
    std::cerr << "set REDIS_URL\n";
    return 2;
  }
  const int depth = argc > 1 ? std::atoi(argv[1]) : 64;
  const int calls = argc > 2 ? std::atoi(argv[2]) : 200000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;

  auto client = distkit::Client::connect(url);
  const distkit::RedisKey prefix("distkit-instance-bench");
  auto counter = distkit::StrictInstanceAwareCounter::create(
      distkit::InstanceAwareCounterOptions(prefix, client));
  counter->clear();
  const distkit::RedisKey key("conns");
  auto connection = distkit::detail::ClientAccess::connection(*client);
  const std::string base = "distkit-instance-bench-reference:instance_aware_counter";
  const std::string me = "bench-reference-instance";

  auto ours = [&](std::function<void()> done) {
    counter->async_inc(
        key, 1, [done = std::move(done)](boost::system::error_code ec, distkit::InstanceCount) {
          if (ec) {
            std::cerr << "inc failed: " << ec.message() << '\n';
            std::exit(1);
          }
          done();
        });
  };
  auto reference = [&](std::function<void()> done) {
    auto request = distkit::detail::RequestBuilder(reference_inc_script(), 5)
                       .arg(base + ":epoch")
                       .arg(base + ":instances")
                       .arg(base + ":cumulative")
                       .arg(base + ":keys")
                       .arg(base + ":count:" + me)
                       .arg("conns")
                       .arg(std::int64_t{1})
                       .arg(std::int64_t{0})
                       .arg(std::int64_t{30000})
                       .arg(base)
                       .arg(me)
                       .build();
    connection->execute(std::move(request), [done = std::move(done)](boost::system::error_code ec,
                                                                     distkit::detail::Reply reply) {
      if (ec || reply.is_error()) {
        std::cerr << "reference inc failed: " << (ec ? ec.message() : reply.text) << '\n';
        std::exit(1);
      }
      done();
    });
  };

  run(depth, calls / 10, ours);  // warm up both scripts and the key
  run(depth, calls / 10, reference);
  std::vector<double> ours_rates, reference_rates, ours_cost, reference_cost;
  for (int round = 0; round < rounds; ++round) {
    double before = evalsha_usec(*connection);
    reference_rates.push_back(run(depth, calls, reference));
    double after = evalsha_usec(*connection);
    reference_cost.push_back((after - before) / calls);
    ours_rates.push_back(run(depth, calls, ours));
    before = after;
    after = evalsha_usec(*connection);
    ours_cost.push_back((after - before) / calls);
  }
  const double a = median(ours_rates), b = median(reference_rates);
  std::cout << "strict instance-aware inc, " << depth << " in flight, " << calls
            << " calls per round, median of " << rounds << " rounds\n"
            << "  distkit C++        " << static_cast<long>(a) << " calls/s\n"
            << "  reference shape    " << static_cast<long>(b) << " calls/s\n"
            << "  ratio              " << a / b << "x\n"
            << "  Redis time per call (EVALSHA): distkit " << median(ours_cost)
            << " us, reference shape " << median(reference_cost) << " us\n";
  counter->clear();
  distkit::detail::ClientAccess::connection(*client)->execute(
      distkit::detail::RequestBuilder("DEL")
          .arg(base + ":epoch")
          .arg(base + ":instances")
          .arg(base + ":cumulative")
          .arg(base + ":keys")
          .arg(base + ":count:" + me)
          .build(),
      [](boost::system::error_code, distkit::detail::Reply) {});
  return 0;
}
