// The distkit tool's operator commands, run as a user would run them.
#include <gtest/gtest.h>

#include "process.hpp"
#include "test_env.hpp"

namespace distkit::test {
namespace {

class Cli : public testing::Test {
 protected:
  // Runs `distkit --url <test redis> --prefix <unique> args...`.
  ProcessResult distkit(std::vector<std::string> args) {
    std::vector<std::string> argv{DISTKIT_CLI_PATH, "--url", redis_url(), "--prefix", prefix};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  void TearDown() override {
    redis_cli(redis_url(), {"DEL", prefix + ":strict_counter", prefix + ":lax_counter"});
  }

  std::string prefix = unique_prefix().str();
};

TEST_F(Cli, OperatorCommandsPrintValues) {
  EXPECT_EQ(distkit({"get", "k"}).output, "0");
  EXPECT_EQ(distkit({"inc", "k"}).output, "1");
  EXPECT_EQ(distkit({"inc", "k", "41"}).output, "42");
  EXPECT_EQ(distkit({"dec", "k", "2"}).output, "40");
  EXPECT_EQ(distkit({"dec", "k"}).output, "39");
  EXPECT_EQ(distkit({"set", "other", "-7"}).output, "-7");
  EXPECT_EQ(distkit({"get-all", "k", "other", "none"}).output, "k\t39\nother\t-7\nnone\t0");
  EXPECT_EQ(redis_cli(redis_url(), {"HGET", prefix + ":strict_counter", "k"}), "39");
  EXPECT_EQ(distkit({"del", "k"}).output, "39");
  EXPECT_EQ(distkit({"clear"}).output, "cleared");
  EXPECT_EQ(redis_cli(redis_url(), {"EXISTS", prefix + ":strict_counter"}), "0");
}

TEST_F(Cli, JsonOutputEscapesKeys) {
  EXPECT_EQ(distkit({"--json", "inc", "say \"hi\"\t", "2"}).output,
            R"({"key":"say \"hi\"\u0009","value":2})");
  EXPECT_EQ(distkit({"set", "caf\xc3\xa9", "5", "--json"}).output,
            "{\"key\":\"caf\xc3\xa9\",\"value\":5}");
  EXPECT_EQ(distkit({"--json", "get-all", "caf\xc3\xa9", "x"}).output,
            "{\"values\":[{\"key\":\"caf\xc3\xa9\",\"value\":5},{\"key\":\"x\",\"value\":0}]}");
  EXPECT_EQ(distkit({"--json", "del", "x"}).output, R"({"key":"x","previous":0})");
  EXPECT_EQ(distkit({"--json", "clear"}).output, R"({"cleared":true})");
}

TEST_F(Cli, LaxWritesReachTheLaxHashBeforeExit) {
  EXPECT_EQ(distkit({"--lax", "inc", "k", "3"}).output, "3");
  EXPECT_EQ(redis_cli(redis_url(), {"HGET", prefix + ":lax_counter", "k"}), "3");
  EXPECT_EQ(distkit({"get", "k", "--lax"}).output, "3");
  EXPECT_EQ(distkit({"get", "k"}).output, "0");  // the strict hash is another counter
}

TEST_F(Cli, BadInputFailsWithOneLineAndAnExitCode) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"get", "bad:key"}, {"get", ""}, {"inc", "k", "abc"}, {"set", "k"}, {"nonsense"}, {}}) {
    const ProcessResult result = distkit(args);
    EXPECT_EQ(result.exit_code, 2) << testing::PrintToString(args);
    EXPECT_EQ(result.output, "") << testing::PrintToString(args);
  }
  EXPECT_EQ(run({DISTKIT_CLI_PATH, "--url", "http://host", "get", "k"}).exit_code, 2);
  EXPECT_EQ(run({DISTKIT_CLI_PATH, "--prefix", "a:b", "--url", redis_url(), "get", "k"}).exit_code,
            2);
}

TEST_F(Cli, UnreachableRedisAndOverflowHaveTheirOwnExitCodes) {
  EXPECT_EQ(run({DISTKIT_CLI_PATH, "--url", "redis://127.0.0.1:1", "get", "k"}).exit_code, 1);
  distkit({"set", "k", "9223372036854775807"});
  const ProcessResult overflow = distkit({"inc", "k"});
  EXPECT_EQ(overflow.exit_code, 4);
  EXPECT_EQ(distkit({"get", "k"}).output, "9223372036854775807");
  redis_cli(redis_url(), {"HSET", prefix + ":strict_counter", "junk", "x"});
  EXPECT_EQ(distkit({"get", "junk"}).exit_code, 3);
}

TEST_F(Cli, EveryCommandHasHelp) {
  for (const char* command :
       {"get", "inc", "dec", "set", "del", "clear", "get-all", "demo", "bench"}) {
    const ProcessResult help = run({DISTKIT_CLI_PATH, command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.output.find("Usage:"), std::string::npos) << command;
  }
  EXPECT_NE(run({DISTKIT_CLI_PATH, "--help"}).output.find("Exit codes"), std::string::npos);
}

}  // namespace
}  // namespace distkit::test
