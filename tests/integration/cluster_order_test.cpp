// Redis Cluster: one client's calls of one slot run in issue order while
// the slot moves between masters under them (ASK while its keys migrate,
// MOVED once it has moved, map refreshes), against a private cluster
// (tests/support/redis_cluster.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <distkit/distkit.hpp>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cluster_fixture.hpp"

namespace distkit::test {
namespace {

using std::chrono::seconds;

// Keys of one slot, so that moving the slot takes a while: the counter's
// key migrates somewhere in the middle, and calls meet ASK until the rest
// has followed, then MOVED.
constexpr int filler_keys = 4000;
// Calls kept in flight by the one issuing thread.
constexpr int window = 256;
// Moves of the slot, alternating between two masters.
constexpr int moves = 8;

// How often the nodes answered `code` (ASK, MOVED), by INFO errorstats.
std::int64_t redirections(const RedisCluster& cluster, const std::string& code) {
  std::int64_t total = 0;
  for (const auto& port : cluster.ports()) {
    std::istringstream lines(cluster.cli(port, {"INFO", "errorstats"}));
    const std::string field = "errorstat_" + code + ":count=";
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(field, 0) == 0) total += std::stoll(line.substr(field.size()));
    }
  }
  return total;
}

// Issues increments of one key from one thread, `window` in flight, and
// records what each returned by its issue number.
class InOrderLoad {
 public:
  InOrderLoad(StrictCounter& counter, RedisKey key)
      : counter_(counter), key_(std::move(key)), thread_([this] { issue(); }) {}
  ~InOrderLoad() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Calls completed so far, for waiting on progress.
  std::int64_t completed() const { return completed_.load(); }

  // After stop(): every call completed, and the issue numbers of those
  // that did not return their own number (so ran out of order) or failed.
  std::vector<std::string> out_of_order() {
    std::vector<std::string> wrong;
    for (std::size_t i = 0; i < results_.size(); ++i) {
      if (results_[i] != static_cast<std::int64_t>(i) + 1) {
        wrong.push_back("call " + std::to_string(i + 1) + " returned " +
                        std::to_string(results_[i]));
      }
    }
    return wrong;
  }
  std::int64_t issued() const { return static_cast<std::int64_t>(results_.size()); }
  std::int64_t failures() const { return failures_.load(); }

 private:
  void issue() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      in_flight_changed_.wait(lock, [&] { return in_flight_ < window; });
      ++in_flight_;
      // A deque's elements stay put as it grows, so each callback writes
      // its own slot while this thread appends more.
      std::int64_t& result = results_.emplace_back(0);
      lock.unlock();
      counter_.async_inc(key_, 1,
                         [this, &result](boost::system::error_code error, std::int64_t total) {
                           if (error) ++failures_;
                           result = error ? -1 : total;
                           ++completed_;
                           std::lock_guard done(mutex_);
                           --in_flight_;
                           in_flight_changed_.notify_one();
                         });
      lock.lock();
    }
    in_flight_changed_.wait(lock, [&] { return in_flight_ == 0; });
  }

  StrictCounter& counter_;
  RedisKey key_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> completed_{0};
  std::atomic<std::int64_t> failures_{0};
  std::mutex mutex_;
  std::condition_variable in_flight_changed_;
  int in_flight_ = 0;
  std::deque<std::int64_t> results_;
  std::thread thread_;
};

TEST(ClusterOrder, CallsOfOneSlotRunInIssueOrderWhileItMovesBetweenMasters) {
  RedisCluster cluster;
  auto client = cluster_client(cluster);
  // Slot 0: the first slot redis-cli --cluster reshard moves from a master.
  const RedisKey prefix = prefixes_in_slots("strict_counter", 1, 0, 0).front();
  const std::string hash = prefix.str() + ":strict_counter";
  const std::string first = master_of_slot(cluster, 0);
  std::string second;
  for (const auto& port : cluster.master_ports()) {
    if (port != first) second = port;
  }
  ASSERT_FALSE(first.empty());
  for (int i = 0; i < filler_keys; i += 500) {
    std::vector<std::string> args{"-c", "MSET"};
    for (int j = i; j < i + 500; ++j) {
      args.push_back("{" + hash + "}:filler:" + std::to_string(j));
      args.push_back("x");
    }
    cluster.cli(first, args);
  }
  ASSERT_EQ(cluster.cli(first, {"DBSIZE"}), std::to_string(filler_keys));

  auto counter = StrictCounter::create({prefix, client});
  const std::int64_t asked_before = redirections(cluster, "ASK");
  const std::int64_t moved_before = redirections(cluster, "MOVED");
  InOrderLoad load(*counter, RedisKey("k"));
  ASSERT_TRUE(wait_until([&] { return load.completed() > 1000; }, seconds(10)));
  for (int move = 0; move < moves; ++move) {
    const bool forth = move % 2 == 0;
    ASSERT_EQ(cluster.reshard(forth ? first : second, forth ? second : first, 1), 0);
    ASSERT_EQ(master_of_slot(cluster, 0), forth ? second : first) << "slot 0 did not move";
    const auto after_move = load.completed();
    ASSERT_TRUE(wait_until([&] { return load.completed() > after_move + 1000; }, seconds(10)))
        << "no progress after move " << move + 1;
  }
  load.stop();

  const std::int64_t asked = redirections(cluster, "ASK") - asked_before;
  const std::int64_t moved = redirections(cluster, "MOVED") - moved_before;
  std::cout << "order: " << load.issued() << " increments over " << moves
            << " moves of their slot (" << asked << " ASK, " << moved << " MOVED answered), "
            << load.failures() << " failed\n";
  EXPECT_GT(moved, 0) << "the calls never met MOVED";
  EXPECT_GT(asked, 0) << "the calls never met ASK";
  EXPECT_EQ(load.completed(), load.issued());
  const auto wrong = load.out_of_order();
  EXPECT_TRUE(wrong.empty()) << wrong.size()
                             << " calls ran out of issue order or failed, first: " << wrong.front();
  EXPECT_EQ(counter->get(RedisKey("k")), load.issued());
}

}  // namespace
}  // namespace distkit::test
