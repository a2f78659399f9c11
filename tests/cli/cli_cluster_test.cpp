// The operator commands with --url redis-cluster://, against a private
// cluster (tests/support/redis_cluster.hpp).
#include <gtest/gtest.h>

#include "cli_runner.hpp"
#include "redis_cluster.hpp"

namespace distkit::test {
namespace {

TEST(CliCluster, OperatorCommandsWorkOnRedisCluster) {
  RedisCluster cluster;
  const std::string prefix = unique_prefix().str();
  auto output_of = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--url", cluster.url(), "--prefix", prefix});
    const CliResult result = run_distkit(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  };
  for (const std::string flavour : {"", "--lax"}) {
    auto with = [&](std::vector<std::string> args) {
      if (!flavour.empty()) args.push_back(flavour);
      return output_of(std::move(args));
    };
    EXPECT_EQ(with({"inc", "k", "41"}), "41\n");
    EXPECT_EQ(with({"dec", "k"}), "40\n");
    EXPECT_EQ(with({"set", "other", "-7"}), "-7\n");
    EXPECT_EQ(with({"get-all", "k", "other", "never"}), "k\t40\nother\t-7\nnever\t0\n");
    EXPECT_EQ(with({"del", "k"}), "40\n");
    EXPECT_EQ(with({"get", "k"}), "0\n");
    EXPECT_EQ(with({"clear"}), "cleared\n");
    EXPECT_EQ(with({"get", "other"}), "0\n");
  }
  // A LaxCounter prefix whose keys cannot share a slot is bad input.
  const std::vector<std::string> braces{"--lax",       "get",      "k",    "--url",
                                        cluster.url(), "--prefix", "a{b}c"};
  expect_one_line_failure(run_distkit(braces), 2, braces);
}

}  // namespace
}  // namespace distkit::test
