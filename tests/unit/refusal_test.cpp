#include "client/refusal.hpp"

#include <gtest/gtest.h>

#include "replies.hpp"

namespace distkit::detail {
namespace {

using namespace test_replies;

TEST(Refusal, PassingStatesAreRetriedAfterAWait) {
  for (const char* text :
       {"LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script.",
        "TRYAGAIN Multiple keys request", "CLUSTERDOWN The cluster is down"}) {
    EXPECT_EQ(classify_refusal(error_reply(text), false), Refusal::passing) << text;
  }
}

TEST(Refusal, ReplicaAnswersRelocate) {
  EXPECT_EQ(
      classify_refusal(error_reply("READONLY You can't write against a read only replica."), true),
      Refusal::relocate);
  EXPECT_EQ(classify_refusal(error_reply("MASTERDOWN Link with MASTER is down"), false),
            Refusal::relocate);
}

TEST(Refusal, NoscriptOnlyForEvalsha) {
  EXPECT_EQ(classify_refusal(error_reply("NOSCRIPT No matching script."), true), Refusal::noscript);
  EXPECT_FALSE(classify_refusal(error_reply("NOSCRIPT No matching script."), false));
}

TEST(Refusal, RealErrorsAndRepliesAreNotRefusals) {
  EXPECT_FALSE(classify_refusal(error_reply("WRONGTYPE Operation against a key"), true));
  EXPECT_FALSE(classify_refusal(error_reply("BUSYKEY Target key name already exists."), false));
  EXPECT_FALSE(classify_refusal(error_reply("ERR LOADING is not a prefix here"), false));
  EXPECT_FALSE(classify_refusal(status("LOADING"), false));
}

TEST(Refusal, AuthenticationErrors) {
  EXPECT_TRUE(is_authentication_error(
      error_reply("WRONGPASS invalid username-password pair or user is disabled.")));
  EXPECT_TRUE(is_authentication_error(error_reply("NOPERM this user has no permissions")));
  EXPECT_TRUE(is_authentication_error(error_reply("NOAUTH Authentication required.")));
  EXPECT_TRUE(is_authentication_error(
      error_reply("ERR AUTH <password> called without any password configured for the default "
                  "user.")));
  EXPECT_FALSE(is_authentication_error(error_reply("ERR DB index is out of range")));
}

}  // namespace
}  // namespace distkit::detail
