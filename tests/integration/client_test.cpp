// Client behaviour against real redis-servers.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <charconv>
#include <distkit/distkit.hpp>
#include <future>
#include <thread>

#include "counter_fixture.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;

std::int64_t info_field(const std::string& url, const std::string& field) {
  const std::string info = redis_cli(url, {"INFO", "stats"});
  const auto at = info.find(field + ":");
  if (at == std::string::npos) return -1;
  std::int64_t value = 0;
  const char* begin = info.data() + at + field.size() + 1;
  std::from_chars(begin, info.data() + info.size(), value);
  return value;
}

ClientOptions options_for(std::string url) {
  ClientOptions options;
  options.url = std::move(url);
  return options;
}

TEST(Client, MalformedUrlIsInvalidArgument) {
  EXPECT_DISTKIT_ERROR(Client::connect("http://127.0.0.1"), Errc::invalid_argument);
  EXPECT_DISTKIT_ERROR(Client::connect("redis://127.0.0.1:99999"), Errc::invalid_argument);
  // Garbage after the port used to select a db silently.
  EXPECT_DISTKIT_ERROR(Client::connect("redis://127.0.0.1:6379:3"), Errc::invalid_argument);
  EXPECT_DISTKIT_ERROR(Client::connect("redis://127.0.0.1:6379x3"), Errc::invalid_argument);
  try {
    Client::connect("redis://alice:hunter2@127.0.0.1:6379:3");
    FAIL() << "accepted a malformed URL";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
  ClientOptions options;
  options.command_timeout = milliseconds(0);
  EXPECT_DISTKIT_ERROR(Client::connect(options), Errc::invalid_argument);
}

TEST(Client, UnreachableRedisFailsWithinTheConnectTimeout) {
  RedisServer server;
  const std::string url = server.url();
  server.stop();  // nothing listens on the port any more
  ClientOptions options;
  options.url = url;
  options.connect_timeout = milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_DISTKIT_ERROR(Client::connect(options), Errc::connection);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Client, ConcurrentCallersArePipelined) {
  RedisServer server;  // its own, so that no other test's reads are counted
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  {
    auto client = Client::connect(io.get_executor(), options_for(server.url()));
    auto counter = StrictCounter::create({RedisKey("pipelined"), client});
    counter->inc(RedisKey("warm"), 1);  // loads the script
    constexpr int callers = 64;
    const std::int64_t reads_before = info_field(server.url(), "total_reads_processed");
    // Hold the I/O thread so that all 64 calls are surely issued while it is
    // busy, as with callers on other threads racing a write in progress.
    std::promise<void> release;
    boost::asio::post(io, [held = release.get_future().share()] { held.wait(); });
    std::vector<std::future<std::int64_t>> results;
    for (int i = 0; i < callers; ++i) {
      results.push_back(counter->async_inc(RedisKey("k"), 1, boost::asio::use_future));
    }
    release.set_value();
    for (auto& result : results) result.get();
    const std::int64_t reads_after = info_field(server.url(), "total_reads_processed");
    ASSERT_GE(reads_before, 0);
    // 64 calls written one by one would cost Redis 64 reads; coalesced they
    // take a few (plus one or two for each redis-cli INFO).
    EXPECT_LT(reads_after - reads_before, 8) << "reads: " << reads_after - reads_before;
    EXPECT_EQ(counter->get(RedisKey("k")), callers);
  }
  guard.reset();
  io_thread.join();
}

TEST(Client, AuthAndSelectFromTheUrl) {
  RedisServer server;
  redis_cli(server.url(), {"ACL", "SETUSER", "alice", "on", ">wonder land", "~*", "+@all"});
  redis_cli(server.url(), {"CONFIG", "SET", "requirepass", "sesame"});
  const std::string host = "127.0.0.1:" + std::to_string(server.port());

  auto by_password = Client::connect("redis://:sesame@" + host + "/2");
  StrictCounter::create({RedisKey("auth"), by_password})->set(RedisKey("k"), 7);
  auto by_user = Client::connect("redis://alice:wonder%20land@" + host + "/2");
  EXPECT_EQ(StrictCounter::create({RedisKey("auth"), by_user})->get(RedisKey("k")), 7);
  // (redis-cli itself only authenticates with an explicit user name.)
  EXPECT_EQ(
      redis_cli("redis://default:sesame@" + host + "/2", {"HGET", "auth:strict_counter", "k"}),
      "7");

  ClientOptions wrong;
  wrong.url = "redis://:nope@" + host;
  wrong.connect_timeout = milliseconds(500);
  const std::string why = connect_failure(wrong);
  EXPECT_NE(why.find("authentication failed: WRONGPASS"), std::string::npos) << why;
  EXPECT_EQ(why.find("nope"), std::string::npos) << why;
  wrong.url = "redis://:sesame@" + host + "/99";
  EXPECT_NE(connect_failure(wrong).find("SELECT 99 failed"), std::string::npos);
}

TEST(Client, AUserDeniedAHandshakeCommandIsAnAuthenticationFailureAtConnect) {
  RedisServer server;
  // A valid password, but the ACL denies SELECT: the handshake answers
  // NOPERM, which connect() reports as what it is.
  redis_cli(server.url(), {"ACL", "SETUSER", "bob", "on", ">builder", "~*", "+@all", "-select"});
  ClientOptions options;
  options.url = "redis://bob:builder@127.0.0.1:" + std::to_string(server.port()) + "/2";
  options.connect_timeout = milliseconds(500);
  const std::string why = connect_failure(options);
  EXPECT_NE(why.find("authentication failed: NOPERM"), std::string::npos) << why;
  EXPECT_EQ(why.find("builder"), std::string::npos) << why;
}

TEST(Client, CallsWhileRedisIsDownFailWithinTheCommandTimeoutThenRecover) {
  RedisServer server;
  auto counter = StrictCounter::create(
      {RedisKey("down"), connect_with_timeout(server.url(), milliseconds(300))});
  counter->inc(RedisKey("k"), 1);

  server.stop();
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    try {
      counter->inc(RedisKey("k"), 1);
      FAIL() << "succeeded with Redis down";
    } catch (const Error& e) {
      EXPECT_TRUE(e.code() == Errc::connection || e.code() == Errc::timeout) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(300 + 700));
  }
  server.start();
  EXPECT_TRUE(eventually([&] { counter->get(RedisKey("k")); }, std::chrono::seconds(10)));
  EXPECT_EQ(counter->inc(RedisKey("k"), 1), 1);  // a fresh server, without the old data
}

TEST(Client, SlowRedisTimesOutWithoutLosingTheConnection) {
  RedisServer server;
  auto counter = StrictCounter::create(
      {RedisKey("slow"), connect_with_timeout(server.url(), milliseconds(200))});
  counter->inc(RedisKey("k"), 1);
  redis_cli(server.url(), {"CLIENT", "PAUSE", "600", "ALL"});
  EXPECT_DISTKIT_ERROR(counter->get(RedisKey("k")), Errc::timeout);
  EXPECT_TRUE(
      eventually([&] { EXPECT_EQ(counter->get(RedisKey("k")), 1); }, std::chrono::seconds(5)));
}

TEST(Client, RunsOnTheApplicationsExecutor) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    auto client = Client::connect(io.get_executor(), options_for(redis_url()));
    auto counter = StrictCounter::create({unique_prefix(), client});
    std::promise<std::int64_t> done;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          co_await counter->async_inc(RedisKey("k"), 2, boost::asio::use_awaitable);
          done.set_value(co_await counter->async_inc(RedisKey("k"), 3, boost::asio::use_awaitable));
        },
        boost::asio::detached);
    EXPECT_EQ(done.get_future().get(), 5);
    counter->clear();
  }
  guard.reset();
  runner.join();
}

TEST(Client, CloseFailsLaterCallsWithClosed) {
  auto client = Client::connect(redis_url());
  auto counter = StrictCounter::create({unique_prefix(), client});
  client->close();
  client->close();
  EXPECT_DISTKIT_ERROR(counter->get(RedisKey("k")), Errc::closed);
}

}  // namespace
}  // namespace distkit::test
