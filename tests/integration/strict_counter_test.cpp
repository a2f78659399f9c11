// StrictCounter behaviour beyond the shared Counter contract.
#include <boost/asio/use_future.hpp>
#include <functional>
#include <limits>

#include "counter_fixture.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using StrictTest = CounterTest<StrictCounter>;
using Cmp = CounterComparator;

constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t big = 9007199254740993;  // 2^53 + 1: not a double

// Every operation, each in its own form (plain command or script), on values
// a double cannot hold; the hash is checked by another process.
TEST_F(StrictTest, EveryOperationIsExactBeyondTwoToThe53) {
  const RedisKey a("a"), b("b"), c("c");
  EXPECT_EQ(counter->set(a, big), big);
  EXPECT_EQ(counter->get(a), big);
  EXPECT_EQ(counter->inc(a, 2), big + 2);
  EXPECT_EQ(counter->dec(a, 4), big - 2);
  EXPECT_EQ(counter->inc_if(a, Cmp::nil(), 3), (UpdateResult{big + 1, big - 2, true}));
  EXPECT_EQ(counter->inc_if(a, Cmp::eq(big + 1), 1), (UpdateResult{big + 2, big + 1, true}));
  EXPECT_EQ(counter->inc_if(a, Cmp::gt(big + 2), 1), (UpdateResult{big + 2, big + 2, false}));
  EXPECT_EQ(counter->set_if(a, Cmp::lt(big + 3), -big), (UpdateResult{-big, big + 2, true}));
  EXPECT_EQ(counter->set_if(a, Cmp::ge(-big + 1), 0), (UpdateResult{-big, -big, false}));
  EXPECT_EQ(redis_value("a"), "-9007199254740993");

  const std::vector<KeyCount> sets{{a, big}, {b, -big}, {a, big + 1}};
  EXPECT_EQ(counter->set_all(sets), (std::vector<std::int64_t>{big, -big, big + 1}));
  const std::vector<RedisKey> keys{a, b, c};
  EXPECT_EQ(counter->get_all(keys), (std::vector<std::int64_t>{big + 1, -big, 0}));
  // Results beyond 2^53 are read back as text, those below come as numbers.
  const std::vector<KeyCount> incs{{a, 1}, {b, -1}, {a, -big}, {c, max}, {c, min}};
  EXPECT_EQ(counter->inc_all(incs), (std::vector<std::int64_t>{big + 2, -big - 1, 2, max, -1}));
  const std::vector<ConditionalUpdate> conditional_incs{{a, Cmp::eq(2), big},
                                                        {a, Cmp::eq(big + 2), 1},
                                                        {a, Cmp::eq(big + 2), 1},
                                                        {c, Cmp::lt(0), max}};
  EXPECT_EQ(counter->inc_all_if(conditional_incs),
            (std::vector<UpdateResult>{{big + 2, 2, true},
                                       {big + 3, big + 2, true},
                                       {big + 3, big + 3, false},
                                       {max - 1, -1, true}}));
  const std::vector<ConditionalUpdate> conditional_sets{
      {a, Cmp::ne(big + 3), 0}, {a, Cmp::eq(big + 3), big - 1}, {b, Cmp::le(-big - 1), max}};
  EXPECT_EQ(counter->set_all_if(conditional_sets),
            (std::vector<UpdateResult>{
                {big + 3, big + 3, false}, {big - 1, big + 3, true}, {max, -big - 1, true}}));
  EXPECT_EQ(redis_value("a"), "9007199254740992");
  EXPECT_EQ(redis_value("b"), "9223372036854775807");
  // With nil comparators only, inc_all_if runs as inc_all.
  const std::vector<ConditionalUpdate> unconditional{
      {a, Cmp::nil(), 2}, {c, Cmp::nil(), min}, {a, Cmp::nil(), -1}};
  EXPECT_EQ(counter->inc_all_if(unconditional),
            (std::vector<UpdateResult>{
                {big + 1, big - 1, true}, {min + max - 1, max - 1, true}, {big, big + 1, true}}));
  EXPECT_DISTKIT_ERROR(
      counter->inc_all_if(std::vector<ConditionalUpdate>{{a, Cmp::nil(), 1}, {b, Cmp::nil(), 1}}),
      Errc::overflow);
  EXPECT_EQ(redis_value("a"), "9007199254740993");

  counter->set(a, -big);
  EXPECT_EQ(counter->dec(a, min), max - big + 1);
  EXPECT_EQ(redis_value("a"), "9214364837600034815");
  EXPECT_EQ(counter->del(a), max - big + 1);
  EXPECT_EQ(counter->get(a), 0);
}

// What another process sees of the whole hash, sorted.
std::string hash_contents(const std::string& hash) {
  return redis_cli(redis_url(), {"EVAL",
                                 "local t = redis.call('HGETALL', KEYS[1]) local r = {} "
                                 "for i = 1, #t, 2 do r[#r + 1] = t[i] .. '=' .. t[i + 1] end "
                                 "table.sort(r) return table.concat(r, ' ')",
                                 "1", hash});
}

// inc_if increments first and undoes a miss by the inverse increment: every
// miss must leave the value exactly as it was, whatever its size or the
// count's.
TEST_F(StrictTest, IncIfUndoesAMissExactly) {
  const RedisKey k("k"), zero("zero"), absent("absent");
  const std::vector<std::pair<std::int64_t, std::int64_t>> cases{
      {5, 1}, {5, min}, {-5, max}, {big, 1}, {-big, -1}, {max, 1}, {min, -1}, {max - 1, 1}, {3, 0}};
  for (const auto& [value, count] : cases) {
    counter->set(k, value);
    EXPECT_EQ(counter->inc_if(k, Cmp::lt(value), count), (UpdateResult{value, value, false}))
        << value << " + " << count;
    EXPECT_EQ(redis_value("k"), std::to_string(value)) << value << " + " << count;
  }
  counter->set(zero, 0);
  EXPECT_EQ(counter->inc_if(zero, Cmp::gt(0), 7), (UpdateResult{0, 0, false}));
  EXPECT_EQ(counter->inc_if(absent, Cmp::ne(0), 7), (UpdateResult{0, 0, false}));
  EXPECT_EQ(counter->get(zero), 0);  // may now be absent: both read as 0
  EXPECT_EQ(redis_cli(redis_url(), {"HEXISTS", hash, "absent"}), "0");
  // And a match applies exactly, from either side of 2^53.
  counter->set(k, big - 2);
  EXPECT_EQ(counter->inc_if(k, Cmp::eq(big - 2), 3), (UpdateResult{big + 1, big - 2, true}));
  EXPECT_EQ(counter->inc_if(k, Cmp::ge(big + 1), -3), (UpdateResult{big - 2, big + 1, true}));
  EXPECT_EQ(counter->inc_if(k, Cmp::le(big), min), (UpdateResult{big - 2 + min, big - 2, true}));
}

TEST_F(StrictTest, OverflowInEveryOperationChangesNothing) {
  const RedisKey top("top"), bottom("bottom"), fresh("fresh"), zero("zero");
  counter->set_all(std::vector<KeyCount>{{top, max}, {bottom, min}, {zero, 0}});
  const std::string before = hash_contents(hash);
  EXPECT_EQ(before, "bottom=-9223372036854775808 top=9223372036854775807 zero=0");

  EXPECT_DISTKIT_ERROR(counter->inc(top, 1), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->inc(bottom, -1), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->dec(bottom, 1), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->dec(top, -1), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->dec(zero, min), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->dec(fresh, min), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->dec(top, min), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->inc_if(top, Cmp::nil(), 1), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->inc_if(bottom, Cmp::eq(min), -1), Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->inc_all(std::vector<KeyCount>{{fresh, 5}, {top, -1}, {top, 2}}),
                       Errc::overflow);
  EXPECT_DISTKIT_ERROR(
      counter->inc_all(std::vector<KeyCount>{{bottom, max}, {fresh, min}, {fresh, -1}}),
      Errc::overflow);
  EXPECT_DISTKIT_ERROR(counter->inc_all_if(std::vector<ConditionalUpdate>{
                           {fresh, Cmp::nil(), 1}, {zero, Cmp::eq(0), 7}, {top, Cmp::gt(0), 1}}),
                       Errc::overflow);
  EXPECT_EQ(hash_contents(hash), before);

  // The message names the key that overflowed.
  try {
    counter->inc_all(std::vector<KeyCount>{{fresh, 1}, {top, 1}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'top'"), std::string::npos) << e.what();
  }
}

TEST_F(StrictTest, NonIntegerFieldFailsEveryOperationNamingTheKey) {
  redis_cli(redis_url(), {"HSET", hash, "junk", "1.5", "fine", "1"});
  const RedisKey junk("junk"), fine("fine");
  const auto expect_names_junk = [](const std::function<void()>& call) {
    try {
      call();
      ADD_FAILURE() << "did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::redis);
      EXPECT_NE(std::string(e.what()).find("'junk'"), std::string::npos) << e.what();
    }
  };
  expect_names_junk([&] { counter->get(junk); });
  expect_names_junk([&] { counter->inc(junk, 1); });
  expect_names_junk([&] { counter->dec(junk, 1); });
  expect_names_junk([&] { counter->dec(junk, min); });
  expect_names_junk([&] { counter->del(junk); });
  expect_names_junk([&] { counter->inc_if(junk, Cmp::nil(), 1); });
  expect_names_junk([&] { counter->inc_if(junk, Cmp::eq(1), 1); });
  expect_names_junk([&] { counter->set_if(junk, Cmp::nil(), 1); });
  expect_names_junk([&] { counter->get_all(std::vector<RedisKey>{fine, junk}); });
  expect_names_junk([&] { counter->inc_all(std::vector<KeyCount>{{fine, 1}, {junk, 1}}); });
  expect_names_junk([&] {
    counter->inc_all_if(
        std::vector<ConditionalUpdate>{{fine, Cmp::nil(), 1}, {junk, Cmp::nil(), 1}});
  });
  expect_names_junk([&] {
    counter->set_all_if(
        std::vector<ConditionalUpdate>{{fine, Cmp::nil(), 5}, {junk, Cmp::nil(), 1}});
  });
  EXPECT_EQ(hash_contents(hash), "fine=1 junk=1.5");
}

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
