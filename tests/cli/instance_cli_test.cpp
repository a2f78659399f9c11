// `distkit --instance-aware ...` and `distkit instances`, run as separate
// processes against the test Redis.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_env.hpp"

namespace distkit::test {
namespace {

ProcessResult distkit(const std::string& prefix, std::vector<std::string> args) {
  std::vector<std::string> argv{DISTKIT_CLI_PATH, "--url", redis_url(), "--prefix", prefix};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

TEST(InstanceAwareCli, OperatorCommandsAndInstances) {
  const std::string prefix = unique_prefix().str();
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "inc", "conns", "5"}).output,
            "5 (this instance: 5)");
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "get", "conns"}).output, "5 (this instance: 0)");
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "set", "conns", "3"}).output,
            "3 (this instance: 3)");
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "dec", "conns"}).output, "2 (this instance: -1)");
  const ProcessResult json = distkit(prefix, {"--instance-aware", "--json", "get", "conns"});
  EXPECT_NE(json.output.find(R"("cumulative":2,"instance":0)"), std::string::npos) << json.output;

  const ProcessResult listed = distkit(prefix, {"instances"});
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_NE(listed.output.find("  live"), std::string::npos) << listed.output;
  const ProcessResult as_dead = distkit(prefix, {"instances", "--threshold", "0", "--json"});
  EXPECT_NE(as_dead.output.find(R"("state":"dead")"), std::string::npos) << as_dead.output;

  EXPECT_EQ(distkit(prefix, {"--instance-aware", "del", "conns"}).output, "2 (this instance: 0)");
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "clear"}).output, "cleared");
  // What stays are the flush records of earlier lax runs, which expire.
  EXPECT_EQ(redis_cli(redis_url(), {"KEYS", prefix + ":*:cumulative"}), "");
}

TEST(InstanceAwareCli, LaxCommandsFlushBeforeExit) {
  const std::string prefix = unique_prefix().str();
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "--lax", "inc", "conns", "4"}).output,
            "4 (this instance: 4)");
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "--lax", "get", "conns"}).output,
            "4 (this instance: 0)")
      << "the lax process flushed its increment before it exited";
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "get", "conns"}).output, "0 (this instance: 0)")
      << "the lax counter has keys of its own, apart from the strict one's";
  EXPECT_EQ(
      redis_cli(redis_url(), {"HGET", prefix + ":lax_instance_aware_counter:cumulative", "conns"}),
      "4");

  // `instances --lax` lists the lax counter's instances: the two lax tool
  // runs so far, one holding the slice of 4.
  const ProcessResult lax_listed = distkit(prefix, {"instances", "--lax", "--json"});
  EXPECT_EQ(lax_listed.exit_code, 0);
  EXPECT_NE(lax_listed.output.find(R"("slices":1,"state":"live")"), std::string::npos)
      << lax_listed.output;
  const ProcessResult strict_listed = distkit(prefix, {"instances", "--json"});
  EXPECT_EQ(strict_listed.output.find(R"("slices":1)"), std::string::npos)
      << "the strict counter's instances hold no slice: " << strict_listed.output;
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "--lax", "set", "conns", "9"}).output,
            "9 (this instance: 9)");
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "--lax", "del", "conns"}).output,
            "9 (this instance: 0)");
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "--lax", "clear"}).output, "cleared");
  EXPECT_EQ(distkit(prefix, {"--instance-aware", "clear"}).output, "cleared");
  // What stays are the flush records of earlier lax runs, which expire.
  EXPECT_EQ(redis_cli(redis_url(), {"KEYS", prefix + ":*:cumulative"}), "");
}

}  // namespace
}  // namespace distkit::test
