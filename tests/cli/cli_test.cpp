// The distkit tool's operator commands, run as a user would run them
// (cli_runner.hpp).
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "test_env.hpp"

namespace distkit::test {
namespace {

TEST(CliWithoutRedis, EveryCommandHasHelp) {
  for (const char* command :
       {"get", "inc", "dec", "set", "del", "clear", "get-all", "demo", "bench"}) {
    const CliResult help = run_distkit({command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.out.find("Usage: distkit " + std::string(command)), std::string::npos)
        << command;
  }
  const CliResult top = run_distkit({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Exit codes: 0 ok"), std::string::npos) << top.out;
  EXPECT_EQ(top.out.find("demo-worker"), std::string::npos) << "the worker command is internal";
}

TEST(CliWithoutRedis, InvalidKeysAndPrefixesFailBeforeConnecting) {
  // The URL is unreachable: exit code 2 shows the key was rejected first.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--url", unreachable_url, "get", "bad:key"},
           {"--url", unreachable_url, "get", ""},
           {"--url", unreachable_url, "inc", std::string(256, 'k')},
           {"--url", unreachable_url, "get-all", "ok", "not:ok"},
           {"--url", unreachable_url, "--prefix", "a:b", "get", "k"},
           {"--url", unreachable_url, "--prefix", "", "clear"}}) {
    expect_one_line_failure(run_distkit(args), 2, args);
  }
}

TEST(CliWithoutRedis, MalformedUrlsAreUsageErrors) {
  for (const char* url : {"http://127.0.0.1:6379", "redis://127.0.0.1:notaport", "not a url"}) {
    const std::vector<std::string> args{"--url", url, "get", "k"};
    expect_one_line_failure(run_distkit(args), 2, args);
  }
}

TEST(CliWithoutRedis, UnreachableRedisIsExitCodeOne) {
  const std::vector<std::string> args{"--url", unreachable_url, "inc", "k"};
  const CliResult result = run_distkit(args);
  expect_one_line_failure(result, 1, args);
  EXPECT_NE(result.err.find("connect"), std::string::npos) << result.err;
}

TEST_F(CliWithRedis, OperatorCommandsPrintOneValue) {
  EXPECT_EQ(output_of({"get", "k"}), "0\n");
  EXPECT_EQ(output_of({"inc", "k"}), "1\n");
  EXPECT_EQ(output_of({"inc", "k", "41"}), "42\n");
  EXPECT_EQ(output_of({"inc", "k", "-2"}), "40\n");
  EXPECT_EQ(output_of({"dec", "k"}), "39\n");
  EXPECT_EQ(output_of({"dec", "k", "10"}), "29\n");
  EXPECT_EQ(output_of({"set", "other", "-7"}), "-7\n");
  EXPECT_EQ(output_of({"get", "k"}), "29\n");
  EXPECT_EQ(redis_cli(url_, {"HGET", strict_hash(), "k"}), "29");
  EXPECT_EQ(output_of({"get-all", "k", "other", "never"}), "k\t29\nother\t-7\nnever\t0\n");
  EXPECT_EQ(output_of({"del", "k"}), "29\n");
  EXPECT_EQ(output_of({"get", "k"}), "0\n");
  EXPECT_EQ(output_of({"clear"}), "cleared\n");
  EXPECT_EQ(redis_cli(url_, {"EXISTS", strict_hash()}), "0");
}

TEST_F(CliWithRedis, GlobalOptionsMayFollowTheCommand) {
  EXPECT_EQ(output_of({"inc", "k", "5", "--lax", "--json"}), R"({"key":"k","value":5})"
                                                             "\n");
}

TEST_F(CliWithRedis, ExtremeValuesAreExact) {
  EXPECT_EQ(output_of({"set", "k", "9223372036854775807"}), "9223372036854775807\n");
  EXPECT_EQ(output_of({"set", "low", "-9223372036854775808"}), "-9223372036854775808\n");
  EXPECT_EQ(output_of({"inc", "k", "-9223372036854775807"}), "0\n");
}

TEST_F(CliWithRedis, JsonOutputIsOneObjectPerCommand) {
  EXPECT_EQ(output_of({"--json", "get", "k"}), R"({"key":"k","value":0})"
                                               "\n");
  EXPECT_EQ(output_of({"--json", "inc", "k", "3"}), R"({"key":"k","value":3})"
                                                    "\n");
  EXPECT_EQ(output_of({"--json", "dec", "k"}), R"({"key":"k","value":2})"
                                               "\n");
  EXPECT_EQ(output_of({"--json", "set", "j", "9"}), R"({"key":"j","value":9})"
                                                    "\n");
  EXPECT_EQ(output_of({"--json", "get-all", "k", "j"}),
            R"({"values":[{"key":"k","value":2},{"key":"j","value":9}]})"
            "\n");
  EXPECT_EQ(output_of({"--json", "del", "k"}), R"({"key":"k","previous":2})"
                                               "\n");
  EXPECT_EQ(output_of({"--json", "clear"}), R"({"cleared":true})"
                                            "\n");
}

TEST_F(CliWithRedis, JsonEscapesQuotesAndControlCharacters) {
  // Quote, backslash, tab, newline, a control byte, DEL.
  EXPECT_EQ(output_of({"--json", "inc", "say \"hi\"\\\t\n\x01\x7f", "2"}),
            R"({"key":"say \"hi\"\\\t\n\u0001\u007f","value":2})"
            "\n");
  // Valid UTF-8 passes through.
  EXPECT_EQ(output_of({"--json", "set", "caf\xc3\xa9 \xe2\x82\xac", "5"}),
            "{\"key\":\"caf\xc3\xa9 \xe2\x82\xac\",\"value\":5}\n");
  EXPECT_EQ(output_of({"get", "caf\xc3\xa9 \xe2\x82\xac"}), "5\n");
}

TEST_F(CliWithRedis, LaxAddressesTheLaxHashAndDeliversBeforeExit) {
  EXPECT_EQ(output_of({"--lax", "inc", "k", "3"}), "3\n");
  // The process has exited: what it buffered must already be in Redis.
  EXPECT_EQ(redis_cli(url_, {"HGET", lax_hash(), "k"}), "3");
  EXPECT_EQ(output_of({"--lax", "dec", "k"}), "2\n");
  EXPECT_EQ(redis_cli(url_, {"HGET", lax_hash(), "k"}), "2");
  EXPECT_EQ(output_of({"--lax", "get", "k"}), "2\n");
  EXPECT_EQ(output_of({"get", "k"}), "0\n") << "the strict hash is another counter";
  EXPECT_EQ(output_of({"--lax", "set", "k", "10"}), "10\n");
  EXPECT_EQ(output_of({"--lax", "get-all", "k", "z"}), "k\t10\nz\t0\n");
  EXPECT_EQ(output_of({"--lax", "del", "k"}), "10\n");
  EXPECT_EQ(output_of({"--lax", "inc", "k"}), "1\n");
  EXPECT_EQ(output_of({"--lax", "clear"}), "cleared\n");
  EXPECT_EQ(redis_cli(url_, {"EXISTS", lax_hash()}), "0");
}

TEST(CliWithoutRedis, ShardsOutsideOneTo1024OrNotCanonicalAreUsageErrors) {
  for (const char* shards : {"0", "-1", "1025", "03", "+2", "two", ""}) {
    const std::vector<std::string> args{"--url", unreachable_url, "--shards", shards, "get", "k"};
    expect_one_line_failure(run_distkit(args), 2, args);
  }
  const std::vector<std::string> instance_aware{
      "--url", unreachable_url, "--shards", "2", "--instance-aware", "get", "k"};
  const CliResult refused = run_distkit(instance_aware);
  expect_one_line_failure(refused, 2, instance_aware);
  EXPECT_NE(refused.err.find("not sharded"), std::string::npos) << refused.err;
}

// --shards N addresses the hashes {<prefix>:<kind>:<i>}: each key is in
// exactly one of them, and the unsharded hash is never written.
TEST_F(CliWithRedis, ShardsAddressTheShardedLayout) {
  for (const std::string kind : {"strict_counter", "lax_counter"}) {
    std::vector<std::string> flavour{"--shards", "3"};
    if (kind == "lax_counter") flavour.push_back("--lax");
    const auto with = [&](std::vector<std::string> args) {
      args.insert(args.begin(), flavour.begin(), flavour.end());
      return args;
    };
    std::vector<std::string> hashes;
    for (int i = 0; i < 3; ++i)
      hashes.push_back("{" + prefix_ + ":" + kind + ":" + std::to_string(i) + "}");
    EXPECT_EQ(output_of(with({"set", "big", "9007199254740993"})), "9007199254740993\n");
    EXPECT_EQ(output_of(with({"inc", "big"})), "9007199254740994\n");
    for (const char* key : {"a", "b", "c", "d", "e"}) output_of(with({"inc", key, "2"}));
    EXPECT_EQ(output_of(with({"get-all", "e", "big", "a", "never"})),
              "e\t2\nbig\t9007199254740994\na\t2\nnever\t0\n");
    int found = 0;
    std::set<std::string> used;
    for (const std::string& hash : hashes) {
      const std::string value = redis_cli(url_, {"HGET", hash, "big"});
      if (!value.empty()) {
        EXPECT_EQ(value, "9007199254740994");
        ++found;
      }
      if (redis_cli(url_, {"HLEN", hash}) != "0") used.insert(hash);
    }
    EXPECT_EQ(found, 1) << kind;
    EXPECT_GT(used.size(), 1u) << "six keys over three shards";
    EXPECT_EQ(redis_cli(url_, {"EXISTS", prefix_ + ":" + kind}), "0");
    EXPECT_EQ(output_of(with({"get", "big"})), "9007199254740994\n");
    EXPECT_EQ(output_of({"get", "big"}), "0\n") << "one shard is another layout";
    EXPECT_EQ(output_of(with({"del", "big"})), "9007199254740994\n");
    EXPECT_EQ(output_of(with({"clear"})), "cleared\n");
    EXPECT_EQ(redis_cli(url_, {"EXISTS", hashes[0], hashes[1], hashes[2]}), "0");
    // Left: only the flush records of the earlier lax invocations (each an
    // instance of its own), which expire on their own.
    std::istringstream left(redis_cli(url_, {"KEYS", "{" + prefix_ + ":*"}));
    for (std::string key; std::getline(left, key);) {
      EXPECT_NE(key.find("}:flushed:"), std::string::npos) << key;
      redis_cli(url_, {"DEL", key});
    }
  }
}

TEST_F(CliWithRedis, OverflowChangesNothingAndHasItsOwnExitCode) {
  output_of({"set", "k", "9223372036854775807"});
  const std::vector<std::string> args{"inc", "k"};
  expect_one_line_failure(distkit(args), 4, args);
  EXPECT_EQ(output_of({"get", "k"}), "9223372036854775807\n");
}

TEST_F(CliWithRedis, RedisErrorsHaveTheirOwnExitCode) {
  redis_cli(url_, {"HSET", strict_hash(), "junk", "not a number"});
  const std::vector<std::string> args{"inc", "junk"};
  expect_one_line_failure(distkit(args), 3, args);

  redis_cli(url_, {"DEL", strict_hash()});
  redis_cli(url_, {"SET", strict_hash(), "a string, not a hash"});
  const std::vector<std::string> wrong_type{"get", "k"};
  expect_one_line_failure(distkit(wrong_type), 3, wrong_type);
}

}  // namespace
}  // namespace distkit::test
