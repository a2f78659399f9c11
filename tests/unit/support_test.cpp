// The test harness itself: private servers start, stop and restart on
// their port.
#include <gtest/gtest.h>

#include "redis_server.hpp"
#include "test_env.hpp"

namespace distkit::test {
namespace {

TEST(RedisServer, ServesOnItsPortAcrossRestarts) {
  RedisServer server;
  EXPECT_EQ(server.url(), "redis://127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(redis_cli(server.url(), {"PING"}), "PONG");
  redis_cli(server.url(), {"SET", "k", "v"});
  server.restart();
  EXPECT_EQ(redis_cli(server.url(), {"PING"}), "PONG");
  EXPECT_EQ(redis_cli(server.url(), {"GET", "k"}), "");  // no persistence by default
  server.stop();
  EXPECT_NE(run({"redis-cli", "-u", server.url(), "PING"}).output, "PONG");
}

TEST(RedisServer, AppendOnlyDataSurvivesRestart) {
  RedisServer server({"--appendonly", "yes"});
  redis_cli(server.url(), {"SET", "k", "kept"});
  server.restart();
  EXPECT_EQ(redis_cli(server.url(), {"GET", "k"}), "kept");
}

TEST(TestEnv, UniquePrefixesDiffer) {
  EXPECT_NE(unique_prefix(), unique_prefix());
}

TEST(TestEnv, WaitUntilReportsTimeout) {
  int calls = 0;
  EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, std::chrono::seconds(5)));
  EXPECT_FALSE(wait_until([] { return false; }, std::chrono::milliseconds(20)));
}

}  // namespace
}  // namespace distkit::test
