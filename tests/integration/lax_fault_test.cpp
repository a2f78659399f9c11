// Fault injection: several processes count through a TCP proxy that drops
// and blackholes connections, while Redis is paused and then killed with
// SIGKILL and restarted (AOF, appendfsync always). Lax totals must be exact;
// strict totals between what was acknowledged and that plus the calls that
// ended in a timeout or a dropped connection.
#include <signal.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "counter_fixture.hpp"
#include "redis_server.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;

std::string read_all(int fd) {
  std::string out;
  char buffer[256];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) out.append(buffer, n);
  ::close(fd);
  return out;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

// A child process that is killed (SIGTERM) and reaped when the test ends,
// however it ends.
struct Child {
  explicit Child(const std::vector<std::string>& argv)
      : process(tools::spawn(argv, tools::ChildOutput::pipe)) {}
  ~Child() {
    if (process.pid > 0) {
      ::kill(process.pid, SIGTERM);
      tools::wait_for_exit(process.pid);
    }
    if (process.output >= 0) ::close(process.output);
  }
  int wait() {
    const int code = tools::wait_for_exit(process.pid);
    process.pid = -1;
    return code;
  }
  tools::ChildProcess process;
};

std::int64_t hash_total(const std::string& url, const std::string& hash) {
  std::istringstream lines(redis_cli(url, {"HGETALL", hash}));
  std::int64_t total = 0;
  for (std::string field, value; std::getline(lines, field) && std::getline(lines, value);) {
    total += std::stoll(value);
  }
  return total;
}

TEST(LaxFault, ProcessesThroughDropsBlackholesPausesAndAKillCountExactly) {
  RedisServer server({"--appendonly", "yes", "--appendfsync", "always"});
  Child proxy({"python3", DISTKIT_FAULT_PROXY_PATH, std::to_string(server.port())});
  const std::string port = read_line(proxy.process.output);
  ASSERT_FALSE(port.empty()) << "the proxy did not start";
  const std::string url = "redis://127.0.0.1:" + port;

  constexpr int workers = 3;
  constexpr int run_ms = 7000;
  std::vector<std::unique_ptr<Child>> children;
  for (int w = 0; w < workers; ++w) {
    children.push_back(std::make_unique<Child>(
        std::vector<std::string>{DISTKIT_FAULT_WORKER_PATH, url, "fault", std::to_string(run_ms)}));
  }
  std::this_thread::sleep_for(milliseconds(800));
  ::kill(proxy.process.pid, SIGUSR1);  // drop every connection
  std::this_thread::sleep_for(milliseconds(800));
  ::kill(proxy.process.pid, SIGUSR2);  // blackhole for 1.5 s, then drop
  std::this_thread::sleep_for(milliseconds(2000));
  redis_cli(server.url(), {"CLIENT", "PAUSE", "700", "WRITE"});
  std::this_thread::sleep_for(milliseconds(1200));
  server.crash();
  std::this_thread::sleep_for(milliseconds(300));
  server.start();

  std::int64_t lax_accepted = 0, strict_acked = 0, strict_uncertain = 0;
  for (auto& child : children) {
    const std::string output = read_all(child->process.output);
    child->process.output = -1;
    ASSERT_EQ(child->wait(), 0) << output;
    std::istringstream fields(output);
    std::int64_t lax = 0, acked = 0, uncertain = 0;
    ASSERT_TRUE(fields >> lax >> acked >> uncertain) << output;
    lax_accepted += lax;
    strict_acked += acked;
    strict_uncertain += uncertain;
  }
  EXPECT_GT(lax_accepted, 0);
  EXPECT_EQ(hash_total(server.url(), "fault:lax_counter"), lax_accepted);
  const std::int64_t strict_total = hash_total(server.url(), "fault:strict_counter");
  EXPECT_GE(strict_total, strict_acked);
  EXPECT_LE(strict_total, strict_acked + strict_uncertain);
  std::cout << "lax " << lax_accepted << " exact; strict " << strict_total << " in ["
            << strict_acked << ", " << strict_acked + strict_uncertain << "]\n";
}

}  // namespace
}  // namespace distkit::test
