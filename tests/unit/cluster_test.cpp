// Redis Cluster's sans-IO parts: key slots, the slot map, redirections and
// the slot a request is routed by.
#include <gtest/gtest.h>

#include "client/cluster_map.hpp"
#include "client/cluster_slot.hpp"
#include "client/request.hpp"
#include "client/script.hpp"
#include "distkit/error.hpp"
#include "replies.hpp"

namespace distkit::detail {
namespace {

using namespace test_replies;

Reply integer(std::int64_t value) {
  Reply reply;
  reply.kind = Reply::Kind::integer;
  reply.integer = value;
  return reply;
}

Reply node(std::string host, std::int64_t port) {
  return array({bulk(std::move(host)), integer(port), bulk("0123456789abcdef")});
}

TEST(ClusterSlot, Crc16OfWholeKeys) {
  // Values CLUSTER KEYSLOT gives (the cluster tests compare many more).
  EXPECT_EQ(cluster_key_slot("123456789"), 0x31C3 % 16384);
  EXPECT_EQ(cluster_key_slot("foo"), 12182);
  EXPECT_EQ(cluster_key_slot("bar"), 5061);
  EXPECT_EQ(cluster_key_slot(""), 0);
}

TEST(ClusterSlot, HashTagRules) {
  // The first '{' and the first '}' after it delimit the tag.
  EXPECT_EQ(cluster_hash_tag("{user1000}.following"), "user1000");
  EXPECT_EQ(cluster_key_slot("{user1000}.following"), cluster_key_slot("{user1000}.followers"));
  EXPECT_EQ(cluster_key_slot("x{user1000}"), cluster_key_slot("user1000"));
  EXPECT_EQ(cluster_hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(cluster_hash_tag("foo{{bar}}zap"), "{bar");
  // An empty tag, or no closing brace, hashes the whole key.
  EXPECT_EQ(cluster_hash_tag("foo{}{bar}"), "foo{}{bar}");
  EXPECT_EQ(cluster_hash_tag("foo{bar"), "foo{bar");
  EXPECT_EQ(cluster_hash_tag("}foo{"), "}foo{");
  // A counter's hash and its auxiliary keys share the slot...
  EXPECT_EQ(cluster_key_slot("p:lax_counter"), cluster_key_slot("{p:lax_counter}:set_aside"));
  // ...unless braces in the prefix change the tag.
  EXPECT_NE(cluster_key_slot("a{b}c:lax_counter"),
            cluster_key_slot("{a{b}c:lax_counter}:set_aside"));
}

TEST(ClusterMap, ParsesClusterSlots) {
  const Reply reply = array({
      array({integer(0), integer(5460), node("10.0.0.1", 7000), node("10.0.0.4", 7003)}),
      array({integer(5461), integer(10922), node("", 7001)}),
      array({integer(10923), integer(16383), node("10.0.0.3", 7002), node("10.0.0.5", 7004),
             node("10.0.0.6", 7005)}),
  });
  const SlotMap map = parse_cluster_slots(reply, {"10.0.0.2", 7001});
  ASSERT_EQ(map.ranges.size(), 3u);
  EXPECT_EQ(map.ranges[0], (SlotRange{0, 5460, {"10.0.0.1", 7000}, {{"10.0.0.4", 7003}}}));
  // An empty host is the host of the node asked.
  EXPECT_EQ(map.ranges[1].master, (HostPort{"10.0.0.2", 7001}));
  EXPECT_EQ(map.ranges[2].replicas.size(), 2u);
  EXPECT_EQ(*map.master_of(0), (HostPort{"10.0.0.1", 7000}));
  EXPECT_EQ(*map.master_of(5461), (HostPort{"10.0.0.2", 7001}));
  EXPECT_EQ(*map.master_of(16383), (HostPort{"10.0.0.3", 7002}));
  EXPECT_EQ(map.masters().size(), 3u);
  EXPECT_TRUE(map.is_master({"10.0.0.3", 7002}));
  EXPECT_FALSE(map.is_master({"10.0.0.4", 7003}));
}

TEST(ClusterMap, SlotsNoRangeCoversHaveNoMaster) {
  const SlotMap map =
      parse_cluster_slots(array({array({integer(100), integer(200), node("h", 1)}),
                                 array({integer(300), integer(300), node("h", 1)})}),
                          {"h", 1});
  EXPECT_EQ(map.master_of(99), nullptr);
  EXPECT_NE(map.master_of(300), nullptr);
  EXPECT_EQ(map.master_of(301), nullptr);
  EXPECT_EQ(map.masters().size(), 1u);
}

TEST(ClusterMap, RejectsOtherShapes) {
  const HostPort asked{"h", 1};
  auto rejects = [&](const Reply& reply, const std::string& why) {
    try {
      parse_cluster_slots(reply, asked);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::redis);
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  rejects(error_reply("ERR This instance has cluster support disabled"), "cluster support");
  rejects(bulk("x"), "not an array");
  rejects(array({array({integer(0), integer(1)})}), "a range is not");
  rejects(array({array({integer(0), integer(16384), node("h", 1)})}), "a slot");
  rejects(array({array({integer(5), integer(4), node("h", 1)})}), "ends before it starts");
  rejects(array({array({integer(0), integer(1), node("h", 0)})}), "port");
  rejects(array({array({integer(0), integer(1), node("?", 1)})}), "unknown");
  rejects(array({array({integer(0), integer(1), array({bulk("h")})})}), "a node is not");
}

TEST(ClusterRedirect, MovedAndAsk) {
  const HostPort from{"10.0.0.1", 7000};
  EXPECT_EQ(parse_redirect(error_reply("MOVED 3999 127.0.0.1:6381"), from),
            (Redirect{Redirect::Kind::moved, 3999, {"127.0.0.1", 6381}}));
  EXPECT_EQ(parse_redirect(error_reply("ASK 16383 node-b:7001"), from),
            (Redirect{Redirect::Kind::ask, 16383, {"node-b", 7001}}));
  // IPv6: the port follows the last ':'.
  EXPECT_EQ(parse_redirect(error_reply("MOVED 1 ::1:7002"), from)->target, (HostPort{"::1", 7002}));
  // No host: the node that answered.
  EXPECT_EQ(parse_redirect(error_reply("MOVED 1 :7002"), from)->target,
            (HostPort{"10.0.0.1", 7002}));
}

TEST(ClusterRedirect, OtherRepliesAreNoRedirections) {
  const HostPort from{"h", 1};
  for (const char* text : {"MOVEDX 1 h:1", "MOVED", "MOVED 1", "MOVED x h:1", "MOVED 16384 h:1",
                           "MOVED 1 h", "MOVED 1 h:0", "MOVED 1 h:70000", "ASK 1 h:1x",
                           "TRYAGAIN Multiple keys request", "ERR MOVED 1 h:1"}) {
    EXPECT_FALSE(parse_redirect(error_reply(text), from)) << text;
  }
  EXPECT_FALSE(parse_redirect(status("MOVED 1 h:1"), from));
}

TEST(RequestSlot, KeysDecideTheSlot) {
  EXPECT_EQ(RequestBuilder("PING").build().slot(), Request::no_keys);
  EXPECT_EQ(RequestBuilder("HGET").key("foo").arg("field").build().slot(), 12182);
  // Arguments that are no keys do not count.
  EXPECT_EQ(RequestBuilder("HSET").key("{t}a").arg("bar").arg("1").build().slot(),
            cluster_key_slot("t"));
  EXPECT_EQ(RequestBuilder("DEL").key("{t}a").key("{t}b").build().slot(), cluster_key_slot("t"));
  EXPECT_EQ(RequestBuilder("DEL").key("foo").key("bar").build().slot(), Request::cross_slot);
}

TEST(RequestSlot, ScriptKeysAreKeys) {
  const Script script("return 1");
  EXPECT_EQ(RequestBuilder(script, 2).arg("{t}a").arg("{t}b").arg("foo").build().slot(),
            cluster_key_slot("t"));
  EXPECT_EQ(RequestBuilder(script, 2).arg("foo").arg("bar").build().slot(), Request::cross_slot);
  EXPECT_EQ(RequestBuilder(script, 0).arg("foo").build().slot(), Request::no_keys);
}

// The slot is read from the keys' places in the tail: rewriting the head as
// EVAL <body> (longer than EVALSHA <sha>) must not move them, nor must a
// request past the inline buffer, nor more keys than fit inline.
TEST(RequestSlot, TheSlotSurvivesEvalLargeRequestsAndManyKeys) {
  const Script script("return 'a body longer than any sha1 of forty hex digits'");
  Request request = RequestBuilder(script, 1).arg("{t}a").arg("x").build();
  request.switch_to_eval();
  EXPECT_EQ(request.slot(), cluster_key_slot("t"));
  RequestBuilder large("HSET");
  large.key("{u}h");
  for (int i = 0; i < 100; ++i) large.arg("field" + std::to_string(i)).arg(std::int64_t{i});
  EXPECT_EQ(large.build().slot(), cluster_key_slot("u"));
  RequestBuilder many(script, 5);
  for (const char* key : {"{v}1", "{v}2", "{v}3", "{v}4"}) many.arg(key);
  EXPECT_EQ(many.arg("{v}5").build().slot(), cluster_key_slot("v"));
  RequestBuilder last_differs(script, 5);
  for (const char* key : {"{v}1", "{v}2", "{v}3", "{v}4"}) last_differs.arg(key);
  EXPECT_EQ(last_differs.arg("{w}5").build().slot(), Request::cross_slot);
}

}  // namespace
}  // namespace distkit::detail
