#include "client/sentinel_protocol.hpp"

#include <gtest/gtest.h>

#include "replies.hpp"

namespace distkit::detail {
namespace {

using namespace test_replies;

TEST(SentinelProtocol, MasterQueryAuthenticatesFirstWhenAsked) {
  EXPECT_EQ(encode_master_query({}, "mymaster"),
            "*3\r\n$8\r\nSENTINEL\r\n$23\r\nGET-MASTER-ADDR-BY-NAME\r\n$8\r\nmymaster\r\n");
  EXPECT_EQ(replies_for({}), 1u);
  const Credentials sentinel_password{std::nullopt, "pw"};
  EXPECT_TRUE(
      encode_master_query(sentinel_password, "m").starts_with("*2\r\n$4\r\nAUTH\r\n$2\r\npw"));
  EXPECT_EQ(replies_for(sentinel_password), 2u);
  EXPECT_NE(encode_switch_master_subscription({}).find("+switch-master"), std::string::npos);
}

TEST(SentinelProtocol, MasterAddress) {
  std::string why;
  EXPECT_EQ(parse_master_address(array({bulk("10.0.0.7"), bulk("6380")}), why),
            (ServerAddress{"10.0.0.7", 6380, {}}));
  EXPECT_FALSE(parse_master_address(Reply{}, why));
  EXPECT_NE(why.find("does not know"), std::string::npos);
  EXPECT_FALSE(parse_master_address(error_reply("NOAUTH Authentication required."), why));
  EXPECT_EQ(why, "NOAUTH Authentication required.");
  EXPECT_FALSE(parse_master_address(array({bulk("10.0.0.7"), bulk("0")}), why));
  EXPECT_FALSE(parse_master_address(array({bulk("10.0.0.7"), bulk("80x")}), why));
  EXPECT_FALSE(parse_master_address(array({bulk("10.0.0.7")}), why));
}

TEST(SentinelProtocol, SwitchMasterForOurMasterOnly) {
  const Reply ours = array(
      {bulk("message"), bulk("+switch-master"), bulk("mymaster 127.0.0.1 6379 127.0.0.1 6380")});
  EXPECT_EQ(parse_switch_master(ours, "mymaster"), (ServerAddress{"127.0.0.1", 6380, {}}));
  EXPECT_FALSE(parse_switch_master(ours, "other"));
  const Reply confirmation = array({bulk("subscribe"), bulk("+switch-master"), Reply{}});
  EXPECT_FALSE(parse_switch_master(confirmation, "mymaster"));
  EXPECT_FALSE(parse_switch_master(
      array({bulk("message"), bulk("+switch-master"), bulk("mymaster 1 2 3")}), "mymaster"));
}

}  // namespace
}  // namespace distkit::detail
