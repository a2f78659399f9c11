// The cost of Redis Cluster routing: StrictCounter inc on one key (one
// slot) at a fixed depth of calls in flight, through a redis-cluster://
// client against the same call through a redis:// client connected
// straight to the master that owns the slot. Same master, same run,
// alternating rounds; the ratio is the routing's cost (target: >= 0.9).
// Each round also reports the client's CPU time per call (the whole
// process's, while only that round's client is busy), which a loaded
// machine disturbs far less than throughput.
// Usage: distkit_cluster_bench <redis://master> <redis-cluster://seeds>
//   [depth=64] [calls per round=200000] [rounds=5]
#include <hiredis/hiredis.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <distkit/distkit.hpp>
#include <future>
#include <iostream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Round {
  double calls_per_second;
  double cpu_ns_per_call;  // user + system time of this process
};

std::chrono::nanoseconds process_cpu_time() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto time = [](const timeval& t) {
    return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
  };
  return time(usage.ru_utime) + time(usage.ru_stime);
}

// `total` incs kept `depth` in flight.
Round run_round(distkit::StrictCounter& counter, int depth, int total) {
  const distkit::RedisKey key("k");
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::promise<void> drained;
  std::function<void()> start_one = [&] {
    if (started.fetch_add(1) >= total) return;
    counter.async_inc(key, 1, [&](boost::system::error_code error, std::int64_t) {
      if (error) std::cerr << "inc failed: " << error.message() << "\n";
      start_one();  // before counting itself out: nothing may run after the last
      if (finished.fetch_add(1) + 1 == total) drained.set_value();
    });
  };
  const auto start = Clock::now();
  const auto cpu_start = process_cpu_time();
  for (int i = 0; i < depth; ++i) start_one();
  drained.get_future().wait();
  const std::chrono::duration<double> wall = Clock::now() - start;
  const std::chrono::duration<double, std::nano> cpu = process_cpu_time() - cpu_start;
  return {total / wall.count(), cpu.count() / total};
}

// A prefix whose StrictCounter hash the master at `host:port` serves (it
// answers HINCRBY by 0 instead of MOVED).
std::string prefix_on(const std::string& host, int port) {
  redisContext* context = redisConnect(host.c_str(), port);
  for (int i = 0;; ++i) {
    const std::string prefix = "distkit_cluster_bench" + std::to_string(i);
    auto* reply = static_cast<redisReply*>(
        redisCommand(context, "HINCRBY %s:strict_counter k 0", prefix.c_str()));
    const bool here = reply != nullptr && reply->type == REDIS_REPLY_INTEGER;
    if (reply != nullptr) freeReplyObject(reply);
    if (here || reply == nullptr) {
      redisFree(context);
      return prefix;
    }
  }
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: distkit_cluster_bench <redis://host:port of a master> "
                 "<redis-cluster://seeds> [depth] [calls] [rounds]\n";
    return 2;
  }
  const std::string direct_url = argv[1];
  const int depth = argc > 3 ? std::stoi(argv[3]) : 64;
  const int calls = argc > 4 ? std::stoi(argv[4]) : 200000;
  const int rounds = argc > 5 ? std::stoi(argv[5]) : 5;
  const auto host_port = direct_url.substr(direct_url.find("://") + 3);
  const std::string host = host_port.substr(0, host_port.rfind(':'));
  const int port = std::stoi(host_port.substr(host_port.rfind(':') + 1));
  const distkit::RedisKey prefix(prefix_on(host, port));

  auto direct = distkit::Client::connect(direct_url);
  auto cluster = distkit::Client::connect(std::string(argv[2]));
  auto direct_counter = distkit::StrictCounter::create({prefix, direct});
  auto cluster_counter = distkit::StrictCounter::create({prefix, cluster});
  run_round(*direct_counter, depth, calls / 10);  // warm both up
  run_round(*cluster_counter, depth, calls / 10);
  std::vector<double> direct_rates;
  std::vector<double> cluster_rates;
  std::vector<double> direct_cpu;
  std::vector<double> cluster_cpu;
  for (int round = 0; round < rounds; ++round) {
    const Round direct_round = run_round(*direct_counter, depth, calls);
    const Round cluster_round = run_round(*cluster_counter, depth, calls);
    direct_rates.push_back(direct_round.calls_per_second);
    cluster_rates.push_back(cluster_round.calls_per_second);
    direct_cpu.push_back(direct_round.cpu_ns_per_call);
    cluster_cpu.push_back(cluster_round.cpu_ns_per_call);
    std::cout << "round " << round + 1 << ": redis:// " << static_cast<long>(direct_rates.back())
              << " inc/s, redis-cluster:// " << static_cast<long>(cluster_rates.back())
              << " inc/s; client CPU per call " << static_cast<long>(direct_cpu.back()) << " ns, "
              << static_cast<long>(cluster_cpu.back()) << " ns\n";
  }
  const double ratio = median(cluster_rates) / median(direct_rates);
  std::cout << "median: redis:// " << static_cast<long>(median(direct_rates))
            << " inc/s, redis-cluster:// " << static_cast<long>(median(cluster_rates))
            << " inc/s, ratio " << ratio << " (depth " << depth << ", " << calls
            << " calls per round); client CPU per call " << static_cast<long>(median(direct_cpu))
            << " ns, " << static_cast<long>(median(cluster_cpu)) << " ns, ratio "
            << median(cluster_cpu) / median(direct_cpu) << "\n";
  direct_counter->clear();
  return 0;
}
