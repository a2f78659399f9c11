#include "client/handshake.hpp"

#include <gtest/gtest.h>

#include "client/script.hpp"
#include "replies.hpp"

namespace distkit::detail {
namespace {

using namespace test_replies;

Reply ok() {
  return status("OK");
}
Reply pong() {
  return status("PONG");
}
Reply role(std::string name) {
  return array({bulk(std::move(name))});
}

const Credentials alice{"alice", "secret"};

TEST(Handshake, SendsAuthSelectRolePingAndScriptLoadsInOneWrite) {
  const Script script("return 7");
  Handshake handshake(alice, 3, true, {&script});
  const std::string& bytes = handshake.bytes();
  const auto auth = bytes.find("AUTH\r\n$5\r\nalice\r\n$6\r\nsecret");
  const auto select = bytes.find("SELECT\r\n$1\r\n3");
  const auto role_at = bytes.find("ROLE");
  const auto ping = bytes.find("PING");
  const auto load = bytes.find("LOAD\r\n$8\r\nreturn 7");
  ASSERT_NE(auth, std::string::npos);
  EXPECT_LT(auth, select);
  EXPECT_LT(select, role_at);
  EXPECT_LT(role_at, ping);
  EXPECT_LT(ping, load);
  EXPECT_NE(load, std::string::npos);

  EXPECT_EQ(handshake.on_reply(ok()), Handshake::Status::waiting);
  EXPECT_EQ(handshake.on_reply(ok()), Handshake::Status::waiting);
  EXPECT_EQ(handshake.on_reply(role("master")), Handshake::Status::waiting);
  EXPECT_EQ(handshake.on_reply(pong()), Handshake::Status::waiting);
  EXPECT_EQ(handshake.on_reply(bulk(script.sha1())), Handshake::Status::ready);
}

TEST(Handshake, PlainConnectionOnlyPings) {
  Handshake handshake({}, 0, false, {});
  EXPECT_EQ(handshake.bytes(), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(handshake.on_reply(pong()), Handshake::Status::ready);
}

TEST(Handshake, LoadingIsRetriedAndCanSucceedOnTheNextAttempt) {
  Handshake handshake(alice, 0, false, {});
  EXPECT_EQ(handshake.on_reply(ok()), Handshake::Status::waiting);
  EXPECT_EQ(handshake.on_reply(error_reply("LOADING Redis is loading the dataset in memory")),
            Handshake::Status::retry);
  EXPECT_NE(handshake.failure().find("LOADING"), std::string::npos);
  handshake.restart();
  EXPECT_EQ(handshake.on_reply(ok()), Handshake::Status::waiting);
  EXPECT_EQ(handshake.on_reply(pong()), Handshake::Status::ready);
}

TEST(Handshake, WrongPasswordIsAnAuthenticationFailureWithoutThePassword) {
  Handshake handshake(alice, 2, false, {});
  handshake.on_reply(error_reply("WRONGPASS invalid username-password pair or user is disabled."));
  handshake.on_reply(error_reply("NOAUTH Authentication required."));
  EXPECT_EQ(handshake.on_reply(error_reply("NOAUTH Authentication required.")),
            Handshake::Status::failed);
  EXPECT_TRUE(handshake.authentication_failed());
  EXPECT_NE(handshake.failure().find("authentication failed: WRONGPASS"), std::string::npos);
  EXPECT_EQ(handshake.failure().find("secret"), std::string::npos);
}

TEST(Handshake, BadDbFailsAndAReplicaRelocates) {
  Handshake bad_db({}, 99, false, {});
  bad_db.on_reply(error_reply("ERR DB index is out of range"));
  EXPECT_EQ(bad_db.on_reply(pong()), Handshake::Status::failed);
  EXPECT_NE(bad_db.failure().find("SELECT 99 failed"), std::string::npos);
  EXPECT_FALSE(bad_db.authentication_failed());

  Handshake replica({}, 0, true, {});
  replica.on_reply(role("slave"));
  EXPECT_EQ(replica.on_reply(pong()), Handshake::Status::relocate);
}

TEST(Handshake, AFailedScriptLoadIsNotFatal) {
  const Script script("return 7");
  Handshake handshake({}, 0, false, {&script});
  handshake.on_reply(pong());
  EXPECT_EQ(handshake.on_reply(error_reply("ERR unknown command")), Handshake::Status::ready);
}

}  // namespace
}  // namespace distkit::detail
