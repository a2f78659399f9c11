// The distkit tool given careless or hostile input: every case fails with one
// line on stderr, nothing on stdout, the documented exit code, and nothing
// sent or changed.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "local_redis_server.hpp"
#include "test_env.hpp"

namespace distkit::test {
namespace {

std::vector<std::string> with_unreachable_url(const std::vector<std::string>& args) {
  std::vector<std::string> full{"--url", unreachable_url};
  full.insert(full.end(), args.begin(), args.end());
  return full;
}

// Exit code 2 against an unreachable URL: the input was rejected before
// anything was sent (sending would have failed with 1).
TEST(CliBadInput, CountsMustBeCanonicalDecimalInt64) {
  for (const char* amount :
       {"010", "00", "+5", "-0", " 5", "5 ", "", "-", "0x10", "1e3", "1.0", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999999", "\xd9\xa5" /* Arabic-Indic 5 */}) {
    for (const char* command : {"inc", "dec", "set"}) {
      const auto args = with_unreachable_url({command, "k", amount});
      const CliResult result = run_distkit(args);
      expect_one_line_failure(result, 2, args);
      EXPECT_NE(result.err.find("decimal integer"), std::string::npos) << result.err;
    }
  }
}

TEST(CliBadInput, MissingOrExtraArgumentsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"set", "k"}, {"get"}, {"inc", "k", "1", "2"}, {"get-all"}, {}}) {
    expect_one_line_failure(run_distkit(with_unreachable_url(args)), 2, args);
  }
}

TEST(CliBadInput, DemoNumbersMustBeCanonical) {
  // Rejected while the command line is read: no redis-server is started,
  // which the unreachable URL would otherwise be tried before.
  for (const auto& option : std::vector<std::vector<std::string>>{{"--workers", "010"},
                                                                  {"--workers", "0"},
                                                                  {"--workers", "65"},
                                                                  {"--workers", "+2"},
                                                                  {"--workers", ""},
                                                                  {"--workers", "2.0"},
                                                                  {"--seconds", "1e1"},
                                                                  {"--seconds", "nan"},
                                                                  {"--seconds", "inf"},
                                                                  {"--seconds", "-1"},
                                                                  {"--seconds", ".5"},
                                                                  {"--seconds", "0x10"},
                                                                  {"--seconds", "0.05"},
                                                                  {"--seconds", "3601"}}) {
    auto args = with_unreachable_url({"demo"});
    args.insert(args.end(), option.begin(), option.end());
    const CliResult result = run_distkit(args);
    expect_one_line_failure(result, 2, args);
    EXPECT_NE(result.err.find(option[0]), std::string::npos) << result.err;
  }
}

TEST(CliBadInput, UnknownCommandIsNamed) {
  const auto args = with_unreachable_url({"frobnicate", "k"});
  const CliResult result = run_distkit(args);
  expect_one_line_failure(result, 2, args);
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("get-all"), std::string::npos) << "lists the commands";
}

TEST(CliBadInput, PrefixErrorsSayPrefixAndKeyErrorsNameTheKey) {
  const auto prefix_args = with_unreachable_url({"--prefix", "a:b", "get", "k"});
  const CliResult prefix = run_distkit(prefix_args);
  expect_one_line_failure(prefix, 2, prefix_args);
  EXPECT_NE(prefix.err.find("invalid --prefix 'a:b': it contains ':'"), std::string::npos)
      << prefix.err;
  EXPECT_EQ(prefix.err.find("key"), std::string::npos) << prefix.err;

  const auto demo_args = with_unreachable_url({"--prefix", std::string(250, 'p'), "demo"});
  const CliResult demo = run_distkit(demo_args);
  expect_one_line_failure(demo, 2, demo_args);
  EXPECT_NE(demo.err.find("invalid --prefix"), std::string::npos) << demo.err;

  // In a list, the message says which key; control bytes are shown escaped.
  const auto key_args = with_unreachable_url({"get-all", "fine", "bad:\x1b[2Jkey"});
  const CliResult key = run_distkit(key_args);
  expect_one_line_failure(key, 2, key_args);
  EXPECT_NE(key.err.find(R"(invalid key 'bad:\x1b[2Jkey': it contains ':')"), std::string::npos)
      << key.err;
}

TEST(CliBadInput, UrlErrorsNeverShowThePassword) {
  for (const char* url :
       {"redis://user:hunter2secret@127.0.0.1:1/x", "redis://user:hunter2secret@127.0.0.1:1:3",
        "redis://user:hunter2secret@127.0.0.1:1x3", "redis://:hunter2secret@127.0.0.1:1?db=3",
        "http://user:hunter2secret@127.0.0.1:1"}) {
    for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
             {"get", "k"}, {"demo"}, {"bench", "--out", testing::TempDir() + "bench-out"}}) {
      std::vector<std::string> args{"--url", url};
      args.insert(args.end(), command.begin(), command.end());
      const CliResult result = run_distkit(args, {{"REDIS_URL", ""}});
      EXPECT_NE(result.exit_code, 0) << url;
      EXPECT_EQ(result.err.find("hunter2secret"), std::string::npos) << result.err;
      EXPECT_EQ(result.out.find("hunter2secret"), std::string::npos) << result.out;
    }
  }
  std::filesystem::remove_all(testing::TempDir() + "bench-out");
  // The same from the environment.
  const CliResult from_env =
      run_distkit({"get", "k"}, {{"REDIS_URL", "redis://u:hunter2secret@127.0.0.1:1/x"}});
  EXPECT_EQ(from_env.exit_code, 2) << from_env.err;
  EXPECT_EQ(from_env.err.find("hunter2secret"), std::string::npos) << from_env.err;
  EXPECT_NE(from_env.err.find("redis://u:***@127.0.0.1:1/x"), std::string::npos) << from_env.err;
}

// A Redis that wants a password, with db 0..15.
class CliRefusedByRedis : public testing::Test {
 protected:
  static constexpr const char* password = "s3cret-pw";
  std::string url(const std::string& user_info, const std::string& db = "") const {
    return "redis://" + user_info + "127.0.0.1:" + std::to_string(server_.port()) + db;
  }
  tools::LocalRedisServer server_{{"--requirepass", password, "--databases", "16"}};
};

TEST_F(CliRefusedByRedis, WrongPasswordMissingPasswordAndBadDbAreNotOutages) {
  struct Case {
    std::string url;
    std::string names;  // what the message must name
  };
  for (const Case& c :
       {Case{url(":wrong-pw@"), "password"}, Case{url("nobody:wrong-pw@"), "user and password"},
        Case{url(""), "requires a password"},
        Case{url(std::string(":") + password + "@", "/16"), "db 16"}}) {
    const std::vector<std::string> args{"--url", c.url, "inc", "k"};
    const CliResult result = run_distkit(args);
    expect_one_line_failure(result, 6, args);
    EXPECT_NE(result.err.find(c.names), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("wrong-pw"), std::string::npos) << result.err;
  }
  const CliResult right =
      run_distkit({"--url", url(std::string(":") + password + "@", "/15"), "inc", "k"});
  EXPECT_EQ(right.exit_code, 0) << right.err;
  EXPECT_EQ(right.out, "1\n");
}

TEST_F(CliRefusedByRedis, FailingLaxWritePrintsNothingOnStdout) {
  // A user that may not run scripts: the lax flush cannot be delivered.
  const std::string admin = url(std::string("default:") + password + "@");
  redis_cli(admin, {"ACL", "SETUSER", "noscripts", "on", ">pw", "~*", "+@all", "-@scripting"});
  const std::vector<std::string> args{"--url", url("noscripts:pw@"), "--lax", "--json", "inc", "k",
                                      "5"};
  const CliResult result = run_distkit(args);
  expect_one_line_failure(result, 3, args);
  EXPECT_NE(result.err.find("lax write did not reach Redis"), std::string::npos) << result.err;
  EXPECT_EQ(redis_cli(admin, {"HGET", "distkit:lax_counter", "k"}), "");
}

TEST_F(CliWithRedis, JsonKeysThatAreNotUtf8AreBase64) {
  // A lone continuation byte and 0xff; an encoded surrogate (U+D800); an
  // overlong '/'; a code point above U+10FFFF; a truncated sequence.
  const std::vector<std::pair<std::string, std::string>> cases{{"\x80\xff", "gP8="},
                                                               {"\xed\xa0\x80", "7aCA"},
                                                               {"\xc0\xaf", "wK8="},
                                                               {"\xf4\x90\x80\x80", "9JCAgA=="},
                                                               {"a\xc3", "YcM="}};
  for (const auto& [key, base64] : cases) {
    EXPECT_EQ(output_of({"--json", "set", key, "6"}), R"({"key_base64":")" + base64 +
                                                          R"(","value":6})"
                                                          "\n");
    EXPECT_EQ(redis_cli(url_, {"HGET", strict_hash(), key}), "6") << "the exact bytes";
  }
  // Valid UTF-8, including U+FFFD itself and U+10FFFF, stays a string: the
  // two forms cannot collide.
  EXPECT_EQ(output_of({"--json", "get-all", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\x80\xff"}),
            "{\"values\":[{\"key\":\"\xef\xbf\xbd\",\"value\":0},"
            "{\"key\":\"\xf4\x8f\xbf\xbf\",\"value\":0},{\"key_base64\":\"gP8=\",\"value\":6}]}\n");
}

TEST_F(CliWithRedis, RejectedInputChangesNothing) {
  output_of({"set", "k", "5"});
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"set", "k", ""}, {"set", "k", "010"}, {"inc", "k", "99999999999999999999999"}}) {
    expect_one_line_failure(distkit(args), 2, args);
  }
  EXPECT_EQ(redis_cli(url_, {"HGET", strict_hash(), "k"}), "5");
}

}  // namespace
}  // namespace distkit::test
