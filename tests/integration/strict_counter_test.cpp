// StrictCounter behaviour beyond the shared Counter contract.
#include "counter_fixture.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using StrictTest = CounterTest<StrictCounter>;

TEST_F(StrictTest, AnotherProcessSeesEveryWriteImmediately) {
  const RedisKey key("shared");
  for (const std::int64_t expected : {1, 2, 3}) {
    counter->inc(key, 1);
    EXPECT_EQ(run_process({DISTKIT_PROBE_PATH, redis_url(), prefix->str(), "strict", "shared"}),
              std::to_string(expected));
  }
  counter->set(key, 9007199254740993);
  EXPECT_EQ(run_process({DISTKIT_PROBE_PATH, redis_url(), prefix->str(), "strict", "shared"}),
            "9007199254740993");
}

TEST_F(StrictTest, ScriptsReloadAfterScriptFlush) {
  const RedisKey key("k");
  counter->inc(key, 1);
  redis_cli(redis_url(), {"SCRIPT", "FLUSH"});
  EXPECT_EQ(counter->inc(key, 1), 2);
  EXPECT_EQ(counter->inc_if(key, CounterComparator::eq(2), 1).value, 3);
  EXPECT_EQ(counter->del(key), 3);
}

TEST(StrictRestart, ClientReconnectsAndScriptsReloadAfterRedisRestart) {
  RedisServer server;
  auto counter = StrictCounter::create(
      {RedisKey("restart"), connect_with_timeout(server.url(), std::chrono::milliseconds(500))});
  EXPECT_EQ(counter->inc(RedisKey("k"), 5), 5);

  server.restart();  // data and script cache are gone
  const bool recovered = eventually([&] { counter->get(RedisKey("k")); }, std::chrono::seconds(10));
  ASSERT_TRUE(recovered);
  EXPECT_EQ(counter->inc(RedisKey("k"), 1), 1);  // EVALSHA → NOSCRIPT → EVAL
  EXPECT_EQ(counter->inc_if(RedisKey("k"), CounterComparator::eq(1), 1).value, 2);
}

}  // namespace
}  // namespace distkit::test
