// The distkit tool's operator commands, run as a user would run them: as a
// separate process, arguments passed exactly (no shell), stdout and stderr
// checked apart.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "test_env.hpp"

namespace distkit::test {
namespace {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout as printed
  std::string err;  // stderr as printed
};

// Runs the distkit binary with `args` and collects both of its streams.
CliResult run_distkit(const std::vector<std::string>& args) {
  std::vector<std::string> argv{DISTKIT_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (std::string& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe");
  }
  const pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);

  CliResult result;
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int open_streams = 2;
  while (open_streams > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;  // poll skips negative descriptors
        --open_streams;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// The failure contract: nothing on stdout, one line "distkit: ..." on stderr.
void expect_one_line_failure(const CliResult& result, int exit_code,
                             const std::vector<std::string>& args) {
  const std::string context = testing::PrintToString(args) + " stderr: " + result.err;
  EXPECT_EQ(result.exit_code, exit_code) << context;
  EXPECT_EQ(result.out, "") << context;
  EXPECT_TRUE(result.err.starts_with("distkit: ")) << context;
  ASSERT_FALSE(result.err.empty()) << context;
  EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << context;
}

// Refuses connections on every machine the tests run on.
const std::string unreachable_url = "redis://127.0.0.1:1";

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

TEST(CliWithoutRedis, AmountsMustBeDecimalInt64) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"inc", "k", "abc"},
           {"inc", "k", "1.5"},
           {"dec", "k", "0x10"},
           {"inc", "k", "9223372036854775808"},  // one past int64: must not saturate
           {"set", "k", "-9223372036854775809"},
           {"set", "k", ""},
           {"set", "k"},  // V is required
           {"get"},       // KEY is required
           {"inc", "k", "1", "2"},
           {}}) {
    std::vector<std::string> with_url{"--url", unreachable_url};
    with_url.insert(with_url.end(), args.begin(), args.end());
    expect_one_line_failure(run_distkit(with_url), 2, with_url);
  }
}

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

TEST_F(CliWithRedis, OperatorCommandsPrintOneValue) {
  EXPECT_EQ(output_of({"get", "k"}), "0\n");
  EXPECT_EQ(output_of({"inc", "k"}), "1\n");
  EXPECT_EQ(output_of({"inc", "k", "41"}), "42\n");
  EXPECT_EQ(output_of({"inc", "k", "-2"}), "40\n");
  EXPECT_EQ(output_of({"dec", "k"}), "39\n");
  EXPECT_EQ(output_of({"dec", "k", "010"}), "29\n") << "decimal, not octal";
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

TEST_F(CliWithRedis, JsonEscapesQuotesControlCharactersAndBinaryKeys) {
  // Quote, backslash, tab, newline, a control byte, DEL.
  EXPECT_EQ(output_of({"--json", "inc", "say \"hi\"\\\t\n\x01\x7f", "2"}),
            R"({"key":"say \"hi\"\\\t\n\u0001\u007f","value":2})"
            "\n");
  // Valid UTF-8 passes through.
  EXPECT_EQ(output_of({"--json", "set", "caf\xc3\xa9 \xe2\x82\xac", "5"}),
            "{\"key\":\"caf\xc3\xa9 \xe2\x82\xac\",\"value\":5}\n");
  // Bytes that are not UTF-8 (a lone continuation byte, 0xff, a truncated
  // sequence, an encoded surrogate) become \udcXX, one per byte.
  EXPECT_EQ(output_of({"--json", "set", "\x80\xff\xc3 \xed\xa0\x80", "6"}),
            R"({"key":"\udc80\udcff\udcc3 \udced\udca0\udc80","value":6})"
            "\n");
  // The key itself reached Redis byte for byte.
  EXPECT_EQ(redis_cli(url_, {"HGET", strict_hash(), "\x80\xff\xc3 \xed\xa0\x80"}), "6");
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
