// Running the distkit binary as a user runs it: a separate process,
// arguments passed exactly (no shell), stdout and stderr collected apart.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "test_env.hpp"

namespace distkit::test {

struct CliResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  std::string out;     // stdout as printed
  std::string err;     // stderr as printed
};

// A distkit process that is still running.
struct StartedCli {
  pid_t pid = -1;
  int out = -1;  // read ends of its stdout and stderr
  int err = -1;
};

// Environment changes for the child: a name mapped to its value.
using Environment = std::map<std::string, std::string>;

// Starts the distkit binary with `args`, in this process's environment with
// `environment` applied.
StartedCli start_distkit(const std::vector<std::string>& args, const Environment& environment = {});

// Reads both streams to their end, reaps the process and returns all three.
CliResult finish(StartedCli& cli);

// start_distkit() then finish().
CliResult run_distkit(const std::vector<std::string>& args, const Environment& environment = {});

// The failure contract: nothing on stdout, one line "distkit: ..." on stderr,
// and `exit_code`.
void expect_one_line_failure(const CliResult& result, int exit_code,
                             const std::vector<std::string>& args);

// Refuses connections on every machine the tests run on.
inline const std::string unreachable_url = "redis://127.0.0.1:1";

// Tests against the Redis at $REDIS_URL, each under a prefix of its own.
class CliWithRedis : public testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("REDIS_URL");
    if (url == nullptr || *url == '\0') GTEST_SKIP() << "REDIS_URL is not set";
    url_ = url;
  }
  void TearDown() override {
    if (!url_.empty()) redis_cli(url_, {"DEL", strict_hash(), lax_hash()});
  }

  // Runs `distkit --url $REDIS_URL --prefix <prefix> args...`.
  CliResult distkit(const std::vector<std::string>& args) {
    std::vector<std::string> full{"--url", url_, "--prefix", prefix_};
    full.insert(full.end(), args.begin(), args.end());
    return run_distkit(full);
  }
  // stdout of a command that must succeed.
  std::string output_of(const std::vector<std::string>& args) {
    const CliResult result = distkit(args);
    EXPECT_EQ(result.exit_code, 0) << testing::PrintToString(args) << " stderr: " << result.err;
    EXPECT_EQ(result.err, "") << testing::PrintToString(args);
    return result.out;
  }
  std::string strict_hash() const { return prefix_ + ":strict_counter"; }
  std::string lax_hash() const { return prefix_ + ":lax_counter"; }

  std::string url_;
  std::string prefix_ = unique_prefix().str();
};

}  // namespace distkit::test
