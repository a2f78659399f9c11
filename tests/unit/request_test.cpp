#include "client/request.hpp"

#include <gtest/gtest.h>

#include <string>

#include "client/script.hpp"

namespace distkit::detail {
namespace {

std::string bytes_of(const Request& request) {
  return std::string(request.head()) + std::string(request.tail());
}

TEST(Request, EncodesCommandAsRespArray) {
  const Request request = RequestBuilder("HGET").arg("h").arg("field").build();
  EXPECT_EQ(bytes_of(request), "*3\r\n$4\r\nHGET\r\n$1\r\nh\r\n$5\r\nfield\r\n");
  EXPECT_EQ(request.script(), nullptr);
}

TEST(Request, ArgumentsAreBinarySafe) {
  const std::string binary("a\0\r\n b", 6);
  const Request request = RequestBuilder("SET").arg(binary).arg("").build();
  using namespace std::string_literals;
  EXPECT_EQ(bytes_of(request), "*3\r\n$3\r\nSET\r\n$6\r\na\0\r\n b\r\n$0\r\n\r\n"s);
}

TEST(Request, EncodesInt64Extremes) {
  const Request request =
      RequestBuilder("X").arg(std::int64_t{INT64_MIN}).arg(std::int64_t{INT64_MAX}).build();
  EXPECT_EQ(bytes_of(request),
            "*3\r\n$1\r\nX\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n");
}

TEST(Request, ScriptCallUsesEvalshaThenEval) {
  const Script script("return 1");
  EXPECT_EQ(script.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");  // redis-cli SCRIPT LOAD
  Request request = RequestBuilder(script, 1).arg("key").arg("arg").build();
  EXPECT_EQ(request.script(), &script);
  EXPECT_EQ(bytes_of(request), "*5\r\n$7\r\nEVALSHA\r\n$40\r\n" + script.sha1() +
                                   "\r\n$1\r\n1\r\n$3\r\nkey\r\n$3\r\narg\r\n");
  request.switch_to_eval();
  EXPECT_TRUE(request.uses_eval());
  EXPECT_EQ(bytes_of(request),
            "*5\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n1\r\n$3\r\nkey\r\n$3\r\narg\r\n");
}

TEST(Request, LargeArgumentsOutgrowTheInlineBuffer) {
  const Script script("return 1");
  const std::string large(10'000, 'x');
  Request request = RequestBuilder(script, 1).arg("key").arg(large).build();
  EXPECT_EQ(bytes_of(request), "*5\r\n$7\r\nEVALSHA\r\n$40\r\n" + script.sha1() +
                                   "\r\n$1\r\n1\r\n$3\r\nkey\r\n$10000\r\n" + large + "\r\n");
  Request moved = std::move(request);
  moved.switch_to_eval();
  EXPECT_EQ(
      bytes_of(moved),
      "*5\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n1\r\n$3\r\nkey\r\n$10000\r\n" + large + "\r\n");
}

TEST(Request, MovedRequestKeepsItsBytes) {
  Request request = RequestBuilder("HINCRBY").arg("hash").arg("key").arg(std::int64_t{-7}).build();
  const std::string expected = bytes_of(request);
  const Request moved = std::move(request);
  EXPECT_EQ(bytes_of(moved), expected);
  EXPECT_EQ(moved.size(), expected.size());
}

}  // namespace
}  // namespace distkit::detail
