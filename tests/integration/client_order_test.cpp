// Issue order after NOSCRIPT, credentials rejected on reconnect, when the
// requests of reply callbacks are written, and buffers after a large
// exchange, against real redis-servers.
#include <gtest/gtest.h>
#include <malloc.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <distkit/distkit.hpp>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "client/client_access.hpp"
#include "client/script.hpp"
#include "counter_fixture.hpp"
#include "redis_server.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DISTKIT_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DISTKIT_SANITIZER_ALLOCATOR 1
#endif
#endif
#ifdef DISTKIT_SANITIZER_ALLOCATOR
// The sanitizer runtime's public interface (sanitizer/allocator_interface.h,
// which GCC does not install).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace distkit::test {
namespace {

using detail::Reply;
using detail::RequestBuilder;
using std::chrono::milliseconds;

// A client on an io_context of the test's own, so that the test can hold
// its I/O thread: whatever is issued while it is held goes out in one
// write, as with concurrent callers racing a write in progress.
class HeldClient {
 public:
  explicit HeldClient(const std::string& url,
                      milliseconds command_timeout = ClientOptions{}.command_timeout) {
    ClientOptions options;
    options.url = url;
    options.command_timeout = command_timeout;
    client = Client::connect(io_.get_executor(), options);
  }
  ~HeldClient() {
    client.reset();
    guard_.reset();
    thread_.join();
  }

  // Blocks the I/O thread until the returned promise is set.
  std::promise<void> hold() {
    std::promise<void> release;
    boost::asio::post(io_, [held = release.get_future().share()] { held.wait(); });
    return release;
  }

  // Sends a raw request on the client's connection.
  std::future<std::pair<boost::system::error_code, Reply>> execute(detail::Request request) {
    auto result = std::make_shared<std::promise<std::pair<boost::system::error_code, Reply>>>();
    auto future = result->get_future();
    detail::ClientAccess::connection(*client)->execute(
        std::move(request), [result](boost::system::error_code ec, Reply reply) {
          result->set_value({ec, std::move(reply)});
        });
    return future;
  }

  std::shared_ptr<Client> client;

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  std::thread thread_{[this] { io_.run(); }};
};

const detail::Script& add_five() {
  static const detail::Script script("return redis.call('HINCRBY', KEYS[1], 'f', 5)");
  return script;
}
const detail::Script& reset_to_zero() {
  static const detail::Script script("return redis.call('HSET', KEYS[1], 'f', 0)");
  return script;
}

TEST(ClientOrder, ScriptsRefusedAfterScriptFlushRunAgainInIssueOrder) {
  RedisServer server;
  HeldClient held(server.url());
  ASSERT_EQ(held.execute(RequestBuilder(add_five(), 1).arg("h").build()).get().second.integer, 5);
  ASSERT_EQ(held.execute(RequestBuilder(reset_to_zero(), 1).arg("h").build()).get().second.kind,
            Reply::Kind::integer);
  redis_cli(server.url(), {"SCRIPT", "FLUSH"});

  auto release = held.hold();
  auto add = held.execute(RequestBuilder(add_five(), 1).arg("h").build());
  auto reset = held.execute(RequestBuilder(reset_to_zero(), 1).arg("h").build());
  release.set_value();
  const auto [add_error, add_reply] = add.get();
  const auto [reset_error, reset_reply] = reset.get();
  // Both were refused with NOSCRIPT and both ran again, in order.
  EXPECT_FALSE(add_error);
  EXPECT_EQ(add_reply.integer, 5) << add_reply.text;
  EXPECT_FALSE(reset_error);
  EXPECT_EQ(redis_cli(server.url(), {"HGET", "h", "f"}), "0");
}

TEST(ClientOrder, AScriptOvertakenByALaterCommandIsNotRunAfterIt) {
  RedisServer server;
  HeldClient held(server.url());
  ASSERT_EQ(held.execute(RequestBuilder(add_five(), 1).arg("h").build()).get().second.integer, 5);
  redis_cli(server.url(), {"SCRIPT", "FLUSH"});

  auto release = held.hold();
  auto add = held.execute(RequestBuilder(add_five(), 1).arg("h").build());
  auto reset = held.execute(RequestBuilder("HSET").arg("h").arg("f").arg("0").build());
  release.set_value();
  const auto [add_error, add_reply] = add.get();
  EXPECT_EQ(add_error, Errc::connection) << "a refused call overtaken by a later one is not run";
  EXPECT_FALSE(reset.get().first);
  EXPECT_EQ(redis_cli(server.url(), {"HGET", "h", "f"}), "0");
}

TEST(ClientOrder, CounterIncThenSetEndsAtTheSetAfterScriptFlush) {
  RedisServer server;
  HeldClient held(server.url());
  auto counter = StrictCounter::create({RedisKey("order"), held.client});
  const RedisKey key("k");
  counter->inc(key, 1);
  counter->set(key, 1);
  redis_cli(server.url(), {"SCRIPT", "FLUSH"});
  auto release = held.hold();
  // (A completion handler rather than use_future: the outcome is an
  // error_code, not an exception shared across threads.)
  std::promise<boost::system::error_code> inc;
  counter->async_inc(key, 5,
                     [&inc](boost::system::error_code ec, std::int64_t) { inc.set_value(ec); });
  auto set = counter->async_set(key, 0, boost::asio::use_future);
  release.set_value();
  const boost::system::error_code inc_error = inc.get_future().get();
  // Either both ran again in order, or the inc was overtaken and not run.
  EXPECT_TRUE(!inc_error || inc_error == Errc::connection) << inc_error.message();
  EXPECT_EQ(set.get(), 0);
  EXPECT_EQ(counter->get(key), 0);
}

TEST(ClientOrder, AScriptsFirstUseDoesNotFailBehindALaterCommand) {
  // A fresh server has never seen inc_if's script; a plain HINCRBY is
  // pipelined right behind it. The first use must not meet NOSCRIPT, whose
  // cure would have to fail it for the HINCRBY that already ran.
  RedisServer server;
  auto counter = StrictCounter::create({RedisKey("first_use"), Client::connect(server.url())});
  const RedisKey key("k");
  std::promise<boost::system::error_code> scripted;
  counter->async_inc_if(
      key, CounterComparator::ge(0), 5,
      [&scripted](boost::system::error_code ec, UpdateResult) { scripted.set_value(ec); });
  auto plain = counter->async_inc(key, 1, boost::asio::use_future);
  const boost::system::error_code scripted_error = scripted.get_future().get();
  EXPECT_FALSE(scripted_error) << scripted_error.message();
  EXPECT_EQ(plain.get(), 6);
}

TEST(ClientOrder, AReconnectLoadsTheScriptsSoNoCallNeedsEval) {
  RedisServer server;
  auto counter = StrictCounter::create({RedisKey("reload"), Client::connect(server.url())});
  // inc_if with a real comparator is a script (a plain inc is HINCRBY).
  const auto scripted_inc = [&] { counter->inc_if(RedisKey("k"), CounterComparator::ge(0), 1); };
  scripted_inc();
  server.restart();
  ASSERT_TRUE(eventually(scripted_inc, std::chrono::seconds(10)));
  const std::string stats = redis_cli(server.url(), {"INFO", "commandstats"});
  EXPECT_EQ(stats.find("cmdstat_eval:"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_evalsha:"), std::string::npos) << stats;
}

const detail::Script& add_one_to_field() {
  static const detail::Script script("return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)");
  return script;
}

// The replies to many script calls arrive in one read. The calls their
// first callbacks make must reach Redis while later callbacks of that read
// still run, rather than wait until the whole read is handled: Redis would
// otherwise sit idle while the client works through every reply.
TEST(ClientOrder, CallsMadeByScriptCallbacksAreSentBeforeTheRestOfTheirReadIsHandled) {
  RedisServer server;
  HeldClient held(server.url());
  const auto call = [&](std::string field, detail::ReplyCallback done) {
    detail::ClientAccess::connection(*held.client)
        ->execute(RequestBuilder(add_one_to_field(), 1).arg("h").arg(std::move(field)).build(),
                  std::move(done));
  };
  ASSERT_EQ(held.execute(RequestBuilder(add_one_to_field(), 1).arg("h").arg("warm").build())
                .get()
                .second.integer,
            1);

  constexpr int calls = 64;
  std::promise<bool> seen_by_last;
  // Issued while the I/O thread is held, the calls go out in one write and
  // Redis answers them in one.
  auto release = held.hold();
  for (int i = 1; i <= calls; ++i) {
    call("first", [&, i](boost::system::error_code, Reply) {
      if (i < calls) return call("second", [](boost::system::error_code, Reply) {});
      // The last callback of the read waits (on the I/O thread) for Redis
      // to have run one of the calls made by the callbacks before it.
      seen_by_last.set_value(wait_until(
          [&] {
            return redis_cli(server.url(), {"HGET", "h", "second"}) != "";
          },
          std::chrono::seconds(5)));
    });
  }
  release.set_value();
  EXPECT_TRUE(seen_by_last.get_future().get());
}

TEST(ClientOrder, CredentialsRejectedOnReconnectAreLogged) {
  RedisServer server;
  redis_cli(server.url(), {"CONFIG", "SET", "requirepass", "sesame"});
  const std::string authed = "redis://default:sesame@127.0.0.1:" + std::to_string(server.port());
  std::mutex mutex;
  std::vector<std::string> errors;
  const auto previous = set_log_handler([&](LogLevel level, std::string_view message) {
    std::lock_guard lock(mutex);
    if (level == LogLevel::error) errors.emplace_back(message);
  });
  {
    auto counter = StrictCounter::create(
        {RedisKey("rotated"),
         Client::connect("redis://:sesame@127.0.0.1:" + std::to_string(server.port()))});
    counter->inc(RedisKey("k"), 1);
    // The password is rotated and the client's connection dropped.
    redis_cli(authed, {"CONFIG", "SET", "requirepass", "rotated"});
    run({"redis-cli", "-u", "redis://default:rotated@127.0.0.1:" + std::to_string(server.port()),
         "CLIENT", "KILL", "TYPE", "normal"});
    EXPECT_TRUE(wait_until(
        [&] {
          std::lock_guard lock(mutex);
          return !errors.empty();
        },
        std::chrono::seconds(10)));
    EXPECT_DISTKIT_ERROR(counter->get(RedisKey("k")), Errc::connection);
  }
  set_log_handler(previous);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.front().find("rejected the credentials"), std::string::npos) << errors.front();
  EXPECT_NE(errors.front().find("WRONGPASS"), std::string::npos) << errors.front();
  EXPECT_EQ(errors.front().find("sesame"), std::string::npos) << errors.front();
}

// Bytes the process's live allocations hold: what it uses, not what the
// allocator keeps cached for reuse.
std::size_t heap_in_use() {
#ifdef DISTKIT_SANITIZER_ALLOCATOR
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

// Runs `large` (a request and reply of `size` bytes or more), then a PING,
// and returns how much more heap the process holds than before: what the
// connection kept of the large exchange.
std::size_t heap_kept_after(HeldClient& held, const std::function<detail::Request()>& large,
                            std::size_t size) {
  EXPECT_EQ(held.execute(RequestBuilder("PING").build()).get().second.text, "PONG");
  const std::size_t before = heap_in_use();
  {
    auto [error, reply] = held.execute(large()).get();
    EXPECT_FALSE(error) << error.message();
    // Sanity: the measure sees the reply the test holds.
    EXPECT_GE(heap_in_use(), before + size);
  }
  // A connection may let go of a grown buffer only when it next uses it.
  EXPECT_EQ(held.execute(RequestBuilder("PING").build()).get().second.text, "PONG");
  const std::size_t after = heap_in_use();
  return after > before ? after - before : 0;
}

constexpr std::size_t kept_limit = 8 << 20;

TEST(ClientBuffers, ALargeRequestAndReplyAreNotKept) {
  RedisServer server;
  HeldClient held(server.url(), std::chrono::seconds(30));
  constexpr std::size_t size = 64 << 20;
  // ECHO: the request and the reply are each one 64 MiB string.
  const std::size_t kept = heap_kept_after(
      held, [] { return RequestBuilder("ECHO").arg(std::string(size, 'x')).build(); }, size);
  EXPECT_LT(kept, kept_limit);
}

TEST(ClientBuffers, AThreeMillionElementReplyIsNotKept) {
  RedisServer server;
  HeldClient held(server.url(), std::chrono::seconds(30));
  constexpr int elements = 3'000'000;
  const std::size_t kept = heap_kept_after(
      held,
      [] {
        return RequestBuilder("EVAL")
            .arg("local t = {} for i = 1, tonumber(ARGV[1]) do t[i] = i end return t")
            .arg(std::int64_t{0})
            .arg(std::int64_t{elements})
            .build();
      },
      elements * sizeof(Reply));
  EXPECT_LT(kept, kept_limit);
}

}  // namespace
}  // namespace distkit::test
