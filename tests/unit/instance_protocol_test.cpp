#include "counters/instance_aware/instance_protocol.hpp"

#include <gtest/gtest.h>

#include "distkit/error.hpp"

namespace distkit::detail::instance_aware {
namespace {

Reply text(std::string value, Reply::Kind kind = Reply::Kind::string) {
  Reply reply;
  reply.kind = kind;
  reply.text = std::move(value);
  return reply;
}

Reply array(std::vector<std::string> values) {
  Reply reply;
  reply.kind = Reply::Kind::array;
  for (auto& value : values) reply.elements.push_back(text(std::move(value)));
  return reply;
}

Call inc_call() {
  Call call;
  call.entries.push_back({Mode::inc, RedisKey("a"), CounterComparator::nil(), 1});
  call.entries.push_back({Mode::get, RedisKey("b"), CounterComparator::nil(), 0});
  return call;
}

const Layout layout(RedisKey("p"), Kind::strict);

TEST(InstanceProtocol, LayoutIsTheRustOne) {
  EXPECT_EQ(layout.epoch, "p:instance_aware_counter:epoch");
  EXPECT_EQ(layout.instances, "p:instance_aware_counter:instances");
  EXPECT_EQ(layout.cumulative, "p:instance_aware_counter:cumulative");
  EXPECT_EQ(layout.keys, "p:instance_aware_counter:keys");
  EXPECT_EQ(layout.count("id"), "p:instance_aware_counter:count:id");
  EXPECT_EQ(layout.slice_epoch("id"), "p:instance_aware_counter:slice_epoch:id")
      << "distkit C++'s own record of each slice's epoch";
}

// The Rust distkit's lax counter runs on a strict one whose key type is
// `lax_instance_aware_counter`: every key of the lax layout, distkit C++'s
// own included, is under that name.
TEST(InstanceProtocol, LaxLayoutIsTheRustLaxBackendsOne) {
  const Layout lax(RedisKey("{p}"), Kind::lax);
  EXPECT_EQ(lax.epoch, "{p}:lax_instance_aware_counter:epoch");
  EXPECT_EQ(lax.instances, "{p}:lax_instance_aware_counter:instances");
  EXPECT_EQ(lax.cumulative, "{p}:lax_instance_aware_counter:cumulative");
  EXPECT_EQ(lax.keys, "{p}:lax_instance_aware_counter:keys");
  EXPECT_EQ(lax.count("id"), "{p}:lax_instance_aware_counter:count:id");
  EXPECT_EQ(lax.slice_epoch("id"), "{p}:lax_instance_aware_counter:slice_epoch:id");
  EXPECT_EQ(lax.flushed("id"), "{p}:lax_instance_aware_counter:flushed:id");
  EXPECT_EQ(lax.set_aside(), "{p}:lax_instance_aware_counter:set_aside");
}

TEST(InstanceProtocol, OnlyGlobalWritesAndClearNeedEveryInstance) {
  EXPECT_FALSE(needs_others(inc_call()));
  Call global = inc_call();
  global.entries.push_back({Mode::del, RedisKey("a"), CounterComparator::nil(), 0});
  EXPECT_TRUE(needs_others(global));
  Call clear;
  clear.script = Script::clear;
  EXPECT_TRUE(needs_others(clear));
  Call mine;
  mine.script = Script::clear_on_instance;
  EXPECT_FALSE(needs_others(mine));
}

TEST(InstanceProtocol, DecodesResultsWithUnreadPreviousValues) {
  const Verdict verdict =
      parse_reply(inc_call(), layout,
                  array({"9223372036854775807", "1", "", "", "1", "5", "0", "5", "0", "1"}));
  ASSERT_EQ(verdict.kind, Verdict::Kind::done);
  ASSERT_EQ(verdict.results.size(), 2u);
  EXPECT_EQ(verdict.results[0], (InstanceUpdateResult{{INT64_MAX, 1}, {0, 0}, true}));
  EXPECT_EQ(verdict.results[1], (InstanceUpdateResult{{5, 0}, {5, 0}, true}));
}

TEST(InstanceProtocol, DecodesRetries) {
  Verdict dead = parse_reply(inc_call(), layout, array({"DEAD", "x", "y"}));
  EXPECT_EQ(dead.kind, Verdict::Kind::dead);
  EXPECT_EQ(dead.ids, (std::vector<std::string>{"x", "y"}));
  Verdict instances = parse_reply(inc_call(), layout, array({"INSTANCES"}));
  EXPECT_EQ(instances.kind, Verdict::Kind::instances);
  EXPECT_TRUE(instances.ids.empty());
  EXPECT_EQ(parse_reply(inc_call(), layout, array({"REMOVING"})).kind, Verdict::Kind::removing);
}

TEST(InstanceProtocol, MapsScriptErrors) {
  try {
    parse_reply(inc_call(), layout, text("OVERFLOW 2", Reply::Kind::error));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::overflow);
    EXPECT_NE(std::string(e.what()).find("'b'"), std::string::npos) << e.what();
  }
  Call mine;
  mine.script = Script::clear_on_instance;
  try {
    parse_reply(mine, layout, text("OVERFLOW 7", Reply::Kind::error));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::overflow);
  }
  EXPECT_THROW(parse_reply(inc_call(), layout, array({"1", "2"})), Error) << "wrong size";
  EXPECT_THROW(parse_reply(inc_call(), layout, text("WRONGTYPE x", Reply::Kind::error)), Error);
}

TEST(InstanceProtocol, DeclaresEveryCountHashItTouches) {
  Call global = inc_call();
  global.entries.push_back({Mode::set, RedisKey("a"), CounterComparator::nil(), 3});
  const Request request = make_request(global, {{"dead1"}, {"o1", "o2"}}, layout, "me",
                                       std::chrono::milliseconds(30000));
  const std::string bytes = std::string(request.head()) + std::string(request.tail());
  // numkeys: 6 + 2 per dead instance + 2 others.
  EXPECT_NE(bytes.find("$2\r\n10\r\n$30\r\np:instance_aware_counter:epoch"), std::string::npos);
  EXPECT_NE(bytes.find("p:instance_aware_counter:slice_epoch:me"), std::string::npos);
  EXPECT_NE(bytes.find("p:instance_aware_counter:count:dead1"), std::string::npos);
  EXPECT_NE(bytes.find("p:instance_aware_counter:slice_epoch:dead1"), std::string::npos);
  EXPECT_NE(bytes.find("p:instance_aware_counter:count:o2"), std::string::npos);
  const Request local =
      make_request(inc_call(), {{}, {"o1"}}, layout, "me", std::chrono::milliseconds(30000));
  const std::string local_bytes = std::string(local.head()) + std::string(local.tail());
  EXPECT_EQ(local_bytes.find("count:o1"), std::string::npos) << "no others for local writes";
}

}  // namespace
}  // namespace distkit::detail::instance_aware
