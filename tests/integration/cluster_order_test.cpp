// Redis Cluster: one client's calls of one slot run in issue order while
// the slot moves between masters under them (ASK while its keys migrate,
// MOVED once it has moved, map refreshes), against a private cluster
// (tests/support/redis_cluster.hpp).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <distkit/distkit.hpp>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include "cluster_fixture.hpp"

namespace distkit::test {
namespace {

using std::chrono::seconds;
using clock = std::chrono::steady_clock;

// Keys of one slot, so that moving the slot takes a while: the counter's
// key migrates somewhere in the middle, and calls meet ASK until the rest
// has followed, then MOVED.
constexpr int filler_keys = 4000;
// Calls kept in flight by the one issuing thread.
constexpr int window = 256;
// Moves of the slot, alternating between two masters.
constexpr int moves = 8;

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
  const std::string second = other_master(cluster, first);
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
  const std::int64_t asked_before = errors_answered(cluster, "ASK");
  const std::int64_t moved_before = errors_answered(cluster, "MOVED");
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

  const std::int64_t asked = errors_answered(cluster, "ASK") - asked_before;
  const std::int64_t moved = errors_answered(cluster, "MOVED") - moved_before;
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

// The outcome of one async call, to wait for.
struct Outcome {
  std::promise<std::pair<boost::system::error_code, std::int64_t>> promise;
  std::future<std::pair<boost::system::error_code, std::int64_t>> future = promise.get_future();
  auto handler() {
    return [this](boost::system::error_code error, std::int64_t total) {
      promise.set_value({error, total});
    };
  }
};

// The process id of the node at `port`, by INFO server.
pid_t node_pid(const RedisCluster& cluster, const std::string& port) {
  const std::string info = cluster.cli(port, {"INFO", "server"});
  const std::string field = "process_id:";
  return static_cast<pid_t>(std::stol(info.substr(info.find(field) + field.size())));
}

// A client whose counters know slot 0 at its first master and slot 10923
// at another.
struct RoutedClient {
  std::shared_ptr<Client> client;
  std::shared_ptr<StrictCounter> in_slot_0;
  std::shared_ptr<StrictCounter> in_slot_10923;

  RoutedClient(const RedisCluster& cluster, const RedisKey& prefix_0, const RedisKey& prefix_10923)
      : client(cluster_client(cluster)),
        in_slot_0(StrictCounter::create({prefix_0, client})),
        in_slot_10923(StrictCounter::create({prefix_10923, client})) {
    in_slot_0->get(RedisKey("k"));
    in_slot_10923->get(RedisKey("k"));
  }

  // A call of slot 0 goes to its old master, which does not answer; then
  // a call of slot 10923 meets MOVED, so the client refreshes its map,
  // which moves slot 0 while that call is still there: slot 0's gate
  // closes, and a third call of it is held.
  std::pair<Outcome*, Outcome*> stall_slot_0() {
    in_slot_0->async_inc(RedisKey("k"), 1, at_old_master.handler());
    EXPECT_GT(in_slot_10923->inc(RedisKey("k"), 1), 0);
    in_slot_0->async_inc(RedisKey("k"), 1, held.handler());
    return {&at_old_master, &held};
  }

  Outcome at_old_master;
  Outcome held;
};

TEST(ClusterOrder, HeldCallsTimeOutOrCloseBehindAStoppedOldMasterAndTheSlotRecovers) {
  // No failover while the old master is stopped for a few seconds.
  RedisCluster cluster(3, std::chrono::seconds(30));
  // redis-cli --cluster create gives each master one range; reshard moves
  // the first slot of one.
  const std::string a = master_of_slot(cluster, 0);
  const std::string b = master_of_slot(cluster, 5461);
  const std::string c = master_of_slot(cluster, 10923);
  ASSERT_TRUE(!a.empty() && !b.empty() && !c.empty() && a != b && b != c && a != c);
  const RedisKey prefix_0 = prefixes_in_slots("strict_counter", 1, 0, 0).front();
  const RedisKey prefix_10923 = prefixes_in_slots("strict_counter", 1, 10923, 10923).front();
  RoutedClient timing_out(cluster, prefix_0, prefix_10923);
  RoutedClient closing(cluster, prefix_0, prefix_10923);
  // Both slots move to b behind the clients' backs.
  ASSERT_EQ(cluster.reshard(a, b, 1), 0);
  ASSERT_EQ(cluster.reshard(c, b, 1), 0);
  ASSERT_EQ(master_of_slot(cluster, 0), b);

  const pid_t stopped = node_pid(cluster, a);
  ASSERT_EQ(::kill(stopped, SIGSTOP), 0);
  struct Resume {
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{stopped};
  const auto stopped_at = clock::now();
  const auto [timed_out_sent, timed_out_held] = timing_out.stall_slot_0();
  const auto [closed_sent, closed_held] = closing.stall_slot_0();
  closing.client->close();
  for (Outcome* outcome : {closed_sent, closed_held}) {
    ASSERT_EQ(outcome->future.wait_for(seconds(1)), std::future_status::ready) << "a call hung";
    EXPECT_EQ(outcome->future.get().first, Errc::closed);
  }
  for (Outcome* outcome : {timed_out_sent, timed_out_held}) {
    ASSERT_EQ(outcome->future.wait_for(command_timeout + return_slack), std::future_status::ready)
        << "a call hung";
    EXPECT_EQ(outcome->future.get().first, Errc::timeout);
  }
  EXPECT_LT(clock::now() - stopped_at, command_timeout + return_slack);

  // a stays stopped. Once its connection has been silent for three command
  // timeouts with a reply due (though nobody waits for it any more), the
  // client gives it up, the fence passes and slot 0 works on b. The probe
  // is a read: a probe that times out in flight may still have run, and a
  // read that did changes nothing. None of the failed calls ran: a no
  // longer serves slot 0, and the held ones were never sent.
  std::int64_t total = -1;
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          total = timing_out.in_slot_0->get(RedisKey("k"));
          return true;
        } catch (const Error&) {
          return false;
        }
      },
      3 * command_timeout + 2 * command_timeout + return_slack))
      << "slot 0's calls are held for as long as a is stopped";
  EXPECT_EQ(total, 0);
  EXPECT_EQ(timing_out.in_slot_0->inc(RedisKey("k"), 1), 1);
}

}  // namespace
}  // namespace distkit::test
