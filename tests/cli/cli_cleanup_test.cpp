// Every exit path of `distkit demo` and `distkit bench` removes what they
// started: worker processes, the private redis-server and its temporary
// directory (with the certificates of `demo --tls`), whether they finish,
// fail or are interrupted by a signal.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "test_env.hpp"

namespace distkit::test {
namespace {

struct ProcessStat {
  char state;
  pid_t parent;
};

// A process's state and parent, from `proc_entry`/stat; nullopt once it is
// gone (or for an entry of /proc that is no process).
std::optional<ProcessStat> process_stat(const std::filesystem::path& proc_entry) {
  std::ifstream stat(proc_entry / "stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // pid (comm) state ppid ...; comm may hold spaces, so parse after ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  ProcessStat result{};
  rest >> result.state >> result.parent;
  return result;
}

// The processes whose parent is `parent`, from /proc.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto stat = process_stat(entry.path());
    if (stat && stat->parent == parent) children.push_back(std::stoi(name));
  }
  return children;
}

// Whether `pid` still runs: an orphan that ended may stay a zombie for as
// long as nobody reaps it.
bool process_runs(pid_t pid) {
  const auto stat = process_stat(std::filesystem::path("/proc") / std::to_string(pid));
  return stat && stat->state != 'Z';
}

bool process_exists(pid_t pid) {
  return kill(pid, 0) == 0 || errno != ESRCH;
}

// A temporary directory of the test's own as $TMPDIR, so that what the tool
// leaves there can be seen.
class CliCleanup : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "distkit-cleanup-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    tmpdir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(tmpdir_); }

  bool tmpdir_is_empty() const { return std::filesystem::is_empty(tmpdir_); }

  // The files below the tool's temporary directories, by name.
  std::vector<std::string> files_in_tmpdir() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(tmpdir_)) {
      names.push_back(entry.path().filename());
    }
    return names;
  }

  // Starts a 60 s demo (with `extra_args`) and waits until its `servers`
  // redis-servers and all its workers run; returns it and its children.
  std::pair<StartedCli, std::vector<pid_t>> start_demo(const std::vector<std::string>& extra_args,
                                                       std::size_t servers) {
    std::vector<std::string> args{"demo", "--workers", "2", "--seconds", "60"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    StartedCli demo = start_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", ""}});
    std::vector<pid_t> children;
    // The private redis-servers and two workers.
    const bool started = wait_until(
        [&] {
          children = children_of(demo.pid);
          return children.size() == servers + 2;
        },
        std::chrono::seconds(20));
    EXPECT_TRUE(started) << "the demo did not start its server and workers";
    files_before_signal_ = files_in_tmpdir();
    EXPECT_FALSE(files_before_signal_.empty()) << "the private server's directory";
    return {std::move(demo), children};
  }

  // start_demo(), then `signal`; returns how the demo ended and which
  // children it had.
  std::pair<CliResult, std::vector<pid_t>> interrupt_demo(
      int signal, const std::vector<std::string>& extra_args = {}, std::size_t servers = 1) {
    auto [demo, children] = start_demo(extra_args, servers);
    kill(demo.pid, signal);
    return {finish(demo), children};
  }

  std::string tmpdir_;
  std::vector<std::string> files_before_signal_;  // by start_demo()
};

class CliInterrupted : public CliCleanup, public testing::WithParamInterface<int> {};

TEST_P(CliInterrupted, DemoStopsWorkersAndServerRemovesTheDirectoryAndDiesOfTheSignal) {
  const int signal = GetParam();
  const auto [result, children] = interrupt_demo(signal);
  EXPECT_EQ(result.exit_code, 128 + signal) << result.err;
  for (const pid_t child : children) EXPECT_FALSE(process_exists(child)) << child;
  EXPECT_TRUE(tmpdir_is_empty());
  // The failures the cleanup itself causes are not reported.
  EXPECT_EQ(result.err.find("distkit: "), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("distkit warning"), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(Signals, CliInterrupted, testing::Values(SIGTERM, SIGINT, SIGHUP),
                         [](const testing::TestParamInfo<int>& signal) {
                           return std::string(sigabbrev_np(signal.param));
                         });

// SIGKILL leaves the demo no chance to clean up: its redis-server and
// workers end with it all the same, so that nothing keeps running (or keeps
// a caller's output pipe open). Its directory stays behind.
TEST_F(CliCleanup, KilledDemoTakesItsServerAndWorkersWithIt) {
  auto [demo, children] = start_demo({}, 1);
  kill(demo.pid, SIGKILL);
  for (const pid_t child : children) {
    EXPECT_TRUE(wait_until([&] { return !process_runs(child); }, std::chrono::seconds(10)))
        << "process " << child << " outlived the killed demo";
  }
  // Whatever outlived it holds its output open.
  for (const pid_t child : children) {
    if (process_runs(child)) kill(child, SIGKILL);
  }
  EXPECT_EQ(finish(demo).exit_code, 128 + SIGKILL);
}

TEST_F(CliCleanup, InterruptedTlsDemoRemovesItsCertificates) {
  const auto [result, children] = interrupt_demo(SIGTERM, {"--tls"});
  for (const char* file : {"ca.crt", "server.crt", "server.key"}) {
    EXPECT_NE(std::find(files_before_signal_.begin(), files_before_signal_.end(), file),
              files_before_signal_.end())
        << file;
  }
  EXPECT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  for (const pid_t child : children) EXPECT_FALSE(process_exists(child)) << child;
  EXPECT_TRUE(tmpdir_is_empty());
}

TEST_F(CliCleanup, TlsDemoCountsExactlyOverVerifiedTls) {
  // A worker that could not verify the server would fail the demo.
  const std::vector<std::string> args{"demo",      "--tls", "--workers", "2",
                                      "--seconds", "0.5",   "--json"};
  // $REDIS_URL does not matter: --tls always starts a server of its own.
  const CliResult result = run_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", unreachable_url}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(R"("redis":"a private redis-server at rediss://127.0.0.1:)"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("verified against a CA made for this run"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find(R"("exact":true,"flavours")"), std::string::npos) << result.out;
  EXPECT_TRUE(tmpdir_is_empty());
}

TEST_F(CliCleanup, InstanceAwareTlsDemoGivesItsWorkersTheCa) {
  // Workers that could not verify the server would never report ready.
  const std::vector<std::string> args{"--instance-aware", "demo", "--tls", "--workers", "2",
                                      "--seconds",        "0.2"};
  const CliResult result = run_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", ""}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("all workers up: cumulative 30"), std::string::npos) << result.out;
  EXPECT_TRUE(tmpdir_is_empty());
}

TEST_F(CliCleanup, InterruptedClusterDemoStopsEveryNodeAndRemovesTheirDirectories) {
  const auto [result, children] = interrupt_demo(SIGTERM, {"--cluster"}, 3);
  EXPECT_NE(std::find(files_before_signal_.begin(), files_before_signal_.end(), "nodes.conf"),
            files_before_signal_.end())
      << "a cluster node's configuration";
  EXPECT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  for (const pid_t child : children) EXPECT_FALSE(process_exists(child)) << child;
  EXPECT_TRUE(tmpdir_is_empty());
  EXPECT_EQ(result.err.find("distkit: "), std::string::npos) << result.err;
}

// Lines of `text` that start with `start`.
std::vector<std::string> lines_starting_with(const std::string& text, const std::string& start) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (line.starts_with(start)) lines.push_back(line);
  }
  return lines;
}

TEST_F(CliCleanup, ClusterDemoCountsExactlyAndShowsEveryMasterBusy) {
  const std::vector<std::string> args{"demo", "--cluster", "--workers", "2", "--seconds", "0.5"};
  const CliResult result = run_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", ""}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Both totals are exact."), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Both counters have 3 shards"), std::string::npos) << result.out;
  // One row per master: address, strict shards, commands, commands/s; the
  // demo picks its prefix so that each master holds one of the 3 shards.
  const auto masters = lines_starting_with(result.out, "127.0.0.1:");
  EXPECT_EQ(masters.size(), 3u) << result.out;
  for (const std::string& line : masters) {
    std::istringstream fields(line);
    std::string address, shards, commands, per_second;
    fields >> address >> shards >> commands >> per_second;
    EXPECT_EQ(shards, "1") << line;
    EXPECT_NE(commands, "0") << line;
    EXPECT_NE(per_second, "0") << line;
  }
  EXPECT_TRUE(tmpdir_is_empty());
}

TEST_F(CliCleanup, ClusterDemoJsonHasEveryMaster) {
  const std::vector<std::string> args{"demo", "--cluster", "--shards", "6",     "--workers",
                                      "1",    "--seconds", "0.3",      "--json"};
  const CliResult result = run_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", ""}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(R"("redis":"a private Redis Cluster of 3 masters at redis-cluster://)"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find(R"("exact":true,"flavours")"), std::string::npos) << result.out;
  std::size_t masters = 0;
  for (auto at = result.out.find(R"({"master":"127.0.0.1:)"); at != std::string::npos;
       at = result.out.find(R"({"master":"127.0.0.1:)", at + 1)) {
    ++masters;
  }
  EXPECT_EQ(masters, 3u) << result.out;
  EXPECT_EQ(result.out.find(R"("strict_shards":0)"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find(R"("commands":0)"), std::string::npos) << result.out;
  EXPECT_TRUE(tmpdir_is_empty());
}

TEST_F(CliCleanup, ClusterDemoWithAUrlTlsOrInstanceAwareIsAUsageError) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--url", unreachable_url, "demo", "--cluster"},
                                             {"demo", "--cluster", "--tls"},
                                             {"--instance-aware", "demo", "--cluster"}}) {
    const CliResult result = run_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", ""}});
    expect_one_line_failure(result, 2, args);
    EXPECT_NE(result.err.find("--cluster"), std::string::npos) << result.err;
  }
  EXPECT_TRUE(tmpdir_is_empty()) << "no redis-server was started";
}

TEST_F(CliCleanup, TlsDemoWithAUrlIsAUsageError) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--url", unreachable_url, "demo", "--tls"},
           {"--url", unreachable_url, "--instance-aware", "demo", "--tls"}}) {
    const CliResult result = run_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", ""}});
    expect_one_line_failure(result, 2, args);
    EXPECT_NE(result.err.find("--tls"), std::string::npos) << result.err;
  }
  EXPECT_TRUE(tmpdir_is_empty()) << "no redis-server was started";
}

TEST_F(CliCleanup, MissingRedisServerOrOpensslLeavesNoDirectory) {
  // PATH without redis-server and openssl; the tool itself is run by its
  // full path. The TLS servers (demo --tls, and the bench's, which serves
  // both) need openssl's certificates first.
  for (const auto& [args, missing] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"demo", "--seconds", "0.2"}, "redis-server"},
           {{"demo", "--tls", "--seconds", "0.2"}, "openssl"},
           {{"bench", "--quick", "--out", tmpdir_ + "/out"}, "openssl"}}) {
    const CliResult result =
        run_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", ""}, {"PATH", "/nonexistent"}});
    expect_one_line_failure(result, 5, args);
    EXPECT_NE(result.err.find(missing), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("(is it installed?)"), std::string::npos) << result.err;
    std::filesystem::remove_all(tmpdir_ + "/out");
    EXPECT_TRUE(tmpdir_is_empty()) << testing::PrintToString(args);
  }
}

TEST_F(CliCleanup, BenchChecksOutBeforeStartingAnything) {
  const std::string file = tmpdir_ + "/a-file";
  std::ofstream(file) << "not a directory";
  for (const std::string& out : {file, file + "/below", std::string()}) {
    const std::vector<std::string> args{"bench", "--quick", "--out", out};
    const CliResult result = run_distkit(args, {{"TMPDIR", tmpdir_}, {"REDIS_URL", ""}});
    expect_one_line_failure(result, 2, args);
    EXPECT_NE(result.err.find("--out"), std::string::npos) << result.err;
  }
  std::filesystem::remove(file);
  EXPECT_TRUE(tmpdir_is_empty()) << "no redis-server was started";
}

}  // namespace
}  // namespace distkit::test
