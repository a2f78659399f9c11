// Passing Redis states (LOADING, BUSY) are retried within command_timeout,
// never surfaced as Errc::redis; against real redis-servers.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/use_future.hpp>
#include <distkit/distkit.hpp>
#include <thread>

#include "child_process.hpp"
#include "counter_fixture.hpp"
#include "local_redis_server.hpp"
#include "redis_server.hpp"
#include "server_process.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Tallies how each call of a worker ended.
struct Outcomes {
  std::atomic<std::int64_t> succeeded{0};
  std::atomic<std::int64_t> connection{0};
  std::atomic<std::int64_t> timeout{0};
  std::atomic<std::int64_t> other{0};  // Errc::redis or anything else: must stay 0

  void record(const boost::system::error_code& code) {
    if (code == Errc::connection) {
      ++connection;
    } else if (code == Errc::timeout) {
      ++timeout;
    } else {
      ++other;
    }
  }
};

TEST(PassingState, RestartWhileLoadingIsWaitedOutNotReportedAsRedisError) {
  TempDir dir;
  const std::string port = std::to_string(tools::free_loopback_port());
  const std::string url = "redis://127.0.0.1:" + port;
  // "--save" makes the clean shutdown below write every acknowledged
  // increment, and the filler makes loading it take a noticeable time.
  ServerProcess server({"redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", dir.path(),
                        "--save", "3600 1", "--appendonly", "no", "--enable-debug-command", "yes"});
  ASSERT_TRUE(wait_for_pong({"-p", port}));
  redis_cli(url, {"DEBUG", "POPULATE", "2000000", "filler", "64"});

  ClientOptions options;
  options.url = url;
  options.command_timeout = seconds(30);  // longer than the loading
  auto counter = StrictCounter::create({RedisKey("loading"), Client::connect(options)});
  const RedisKey key("k");

  Outcomes outcomes;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      while (!stop) {
        try {
          counter->inc(key, 1);
          ++outcomes.succeeded;
        } catch (const Error& e) {
          outcomes.record(e.code());
        }
      }
    });
  }
  ASSERT_TRUE(wait_until([&] { return outcomes.succeeded > 100; }, seconds(10)));
  server.stop();
  server.start();
  bool saw_loading = false;
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string answer = run({"redis-cli", "-p", port, "PING"}).output;
        saw_loading = saw_loading || answer.starts_with("LOADING");
        return saw_loading || answer == "PONG";
      },
      seconds(20)));
  ASSERT_TRUE(saw_loading) << "the dataset loaded too fast to test anything";
  // connect() during loading waits for it too (within connect_timeout).
  ClientOptions patient = options;
  patient.connect_timeout = seconds(30);
  auto second = StrictCounter::create({RedisKey("loading"), Client::connect(patient)});
  EXPECT_GE(second->get(key), 100);
  const std::int64_t after_loading = outcomes.succeeded;
  ASSERT_TRUE(wait_until([&] { return outcomes.succeeded > after_loading + 100; }, seconds(10)));
  stop = true;
  for (auto& worker : workers) worker.join();

  EXPECT_EQ(outcomes.other, 0) << "a caller saw a passing state as an error";
  EXPECT_EQ(outcomes.timeout, 0);
  // Only the calls in flight when the server went down may have failed
  // (and may or may not have been applied).
  EXPECT_LE(outcomes.connection, 4);
  const std::int64_t value = counter->get(key);
  EXPECT_GE(value, outcomes.succeeded);
  EXPECT_LE(value, outcomes.succeeded + outcomes.connection);
}

TEST(PassingState, BusyScriptIsWaitedOutWithinTheCommandTimeout) {
  RedisServer server({"--busy-reply-threshold", "50"});
  auto patient =
      StrictCounter::create({RedisKey("busy"), connect_with_timeout(server.url(), seconds(30))});
  auto hasty = StrictCounter::create(
      {RedisKey("busy"), connect_with_timeout(server.url(), milliseconds(300))});
  const RedisKey key("k");
  patient->inc(key, 1);
  hasty->inc(key, 1);

  const auto script = tools::spawn(
      {"redis-cli", "-p", std::to_string(server.port()), "EVAL", "while true do end", "0"},
      tools::ChildOutput::discard);
  ASSERT_TRUE(wait_until(
      [&] {
        return run({"redis-cli", "-p", std::to_string(server.port()), "PING"})
            .output.starts_with("BUSY");
      },
      seconds(10)));
  auto waiting = patient->async_inc(key, 1, boost::asio::use_future);
  // A state outlasting the command timeout is a timeout, not a Redis error.
  EXPECT_DISTKIT_ERROR(hasty->inc(key, 1), Errc::timeout);
  EXPECT_EQ(waiting.wait_for(milliseconds(0)), std::future_status::timeout)
      << "the call should still be waiting for the script to end";
  run({"redis-cli", "-p", std::to_string(server.port()), "SCRIPT", "KILL"});
  EXPECT_EQ(waiting.get(), 3);
  tools::wait_for_exit(script.pid);
}

}  // namespace
}  // namespace distkit::test
