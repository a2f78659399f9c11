// Sentinel: a master, a replica and three sentinels (redis-server
// --sentinel) on free loopback ports; the master dies mid-run and counting
// continues on the promoted replica. The same over TLS everywhere
// (rediss-sentinel://): sentinels, master and replica, and replication.
#include <gtest/gtest.h>

#include <atomic>
#include <distkit/distkit.hpp>
#include <fstream>
#include <future>
#include <memory>

#include "client/client_access.hpp"
#include "counter_fixture.hpp"
#include "local_redis_server.hpp"
#include "server_process.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class SentinelSetup {
 public:
  static constexpr int sentinel_count = 3;

  // With a `sentinel_password`, the sentinels require it (and use it
  // among themselves). With `tls`, every server listens for TLS only, with
  // the server certificate of `tls`, and connects to the others over TLS.
  explicit SentinelSetup(std::string sentinel_password = "", const TestCertificates* tls = nullptr)
      : sentinel_password_(std::move(sentinel_password)),
        tls_(tls),
        master_(server(master_port)),
        replica_(server(replica_port, {"--replicaof", "127.0.0.1", master_port})) {
    for (int i = 0; i < sentinel_count; ++i) {
      const std::string port = std::to_string(tools::free_loopback_port());
      const std::string config = dir_.file("sentinel-" + port + ".conf");
      std::ofstream(config) << "bind 127.0.0.1\ndir " << dir_.path()
                            << "\nsentinel monitor mymaster 127.0.0.1 " << master_port
                            << " 2\nsentinel down-after-milliseconds mymaster 1000\n"
                               "sentinel failover-timeout mymaster 10000\n";
      const std::vector<std::string> listening = listen_options(port);
      for (std::size_t option = 0; option < listening.size(); option += 2) {
        std::ofstream(config, std::ios::app)
            << listening[option].substr(2) << ' ' << listening[option + 1] << '\n';
      }
      if (!sentinel_password_.empty()) {
        std::ofstream(config, std::ios::app)
            << "requirepass " << sentinel_password_ << "\nsentinel sentinel-pass "
            << sentinel_password_ << "\n";
      }
      sentinel_ports.push_back(port);
      sentinels_.push_back(std::make_unique<ServerProcess>(
          std::vector<std::string>{"redis-server", config, "--sentinel"}));
    }
  }

  // Waits until replication is up and every sentinel knows the replica and
  // the other sentinels, so that a failover can be elected.
  bool ready(milliseconds timeout = seconds(30)) {
    if (!wait_for_pong(cli_options(master_port)) || !wait_for_pong(cli_options(replica_port))) {
      return false;
    }
    return wait_until(
        [&] {
          if (cli(replica_port, {"INFO", "replication"}).find("master_link_status:up") ==
              std::string::npos) {
            return false;
          }
          for (const auto& port : sentinel_ports) {
            const std::string master = cli(port, {"SENTINEL", "MASTER", "mymaster"});
            if (master.find("num-slaves\n1") == std::string::npos ||
                master.find("num-other-sentinels\n2") == std::string::npos) {
              return false;
            }
          }
          return true;
        },
        timeout);
  }

  // redis-cli's output for `args` sent to the server on `port`, over TLS
  // and with the sentinels' password where they need it.
  std::string cli(const std::string& port, const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"redis-cli"};
    const std::vector<std::string> options = cli_options(port);
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv).output;
  }

  std::string url(const std::string& query = "") const {
    std::string hosts;
    for (const auto& port : sentinel_ports) {
      hosts += (hosts.empty() ? "" : ",") + std::string("127.0.0.1:") + port;
    }
    return (tls_ != nullptr ? "rediss-sentinel://" : "redis-sentinel://") + hosts + "/0" + query +
           "#mymaster";
  }

  // The master's port as the first sentinel reports it.
  std::string reported_master_port() {
    const std::string answer =
        cli(sentinel_ports.front(), {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"});
    return answer.substr(answer.find('\n') + 1);
  }

  void kill_master() { master_->kill(); }
  // A failover without a crash: the old master becomes a replica.
  std::string fail_over() {
    return cli(sentinel_ports.front(), {"SENTINEL", "FAILOVER", "mymaster"});
  }

  const std::string master_port = std::to_string(tools::free_loopback_port());
  const std::string replica_port = std::to_string(tools::free_loopback_port());
  std::vector<std::string> sentinel_ports;

 private:
  // The options that make a server listen on `port`: plain TCP, or TLS
  // only, replicating (and, for a sentinel, talking to the others) over TLS.
  std::vector<std::string> listen_options(const std::string& port) const {
    if (tls_ == nullptr) return {"--port", port};
    return {"--port",
            "0",
            "--tls-port",
            port,
            "--tls-replication",
            "yes",
            "--tls-cert-file",
            tls_->server_cert(),
            "--tls-key-file",
            tls_->server_key(),
            "--tls-ca-cert-file",
            tls_->ca(),
            "--tls-auth-clients",
            "no"};
  }

  std::vector<std::string> cli_options(const std::string& port) const {
    std::vector<std::string> options{"-p", port};
    if (tls_ != nullptr) options.insert(options.end(), {"--tls", "--cacert", tls_->ca()});
    const bool sentinel =
        std::find(sentinel_ports.begin(), sentinel_ports.end(), port) != sentinel_ports.end();
    if (sentinel && !sentinel_password_.empty()) {
      options.insert(options.end(), {"--no-auth-warning", "-a", sentinel_password_});
    }
    return options;
  }

  std::unique_ptr<ServerProcess> server(const std::string& port,
                                        std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = listen_options(port);
    argv.insert(argv.begin(), "redis-server");
    argv.insert(argv.end(), {"--bind", "127.0.0.1", "--dir", dir_.path(), "--dbfilename",
                             "dump-" + port + ".rdb", "--save", "", "--appendonly", "no"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<ServerProcess>(argv);
  }

  std::string sentinel_password_;
  const TestCertificates* tls_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> master_;
  std::unique_ptr<ServerProcess> replica_;
  std::vector<std::unique_ptr<ServerProcess>> sentinels_;
};

// WAIT 1 on the client's own connection: its earlier writes are on the
// replica once this returns true.
bool replicated(Client& client, milliseconds timeout) {
  std::promise<bool> done;
  auto result = done.get_future();
  detail::ClientAccess::connection(client)->execute(
      detail::RequestBuilder("WAIT")
          .arg(std::int64_t{1})
          .arg(std::int64_t{timeout.count()})
          .build(),
      [&done](boost::system::error_code ec, detail::Reply reply) {
        done.set_value(!ec && reply.kind == detail::Reply::Kind::integer && reply.integer >= 1);
      });
  return result.get();
}

TEST(Sentinel, FindsTheMasterAndRejectsUnknownNames) {
  SentinelSetup setup;
  ASSERT_TRUE(setup.ready());
  auto counter = StrictCounter::create({RedisKey("sentinel"), Client::connect(setup.url())});
  EXPECT_EQ(counter->inc(RedisKey("k"), 3), 3);
  EXPECT_EQ(setup.cli(setup.master_port, {"HGET", "sentinel:strict_counter", "k"}), "3");

  ClientOptions unknown;
  unknown.url = setup.url();
  unknown.url.replace(unknown.url.find("#mymaster"), std::string::npos, "#nosuch");
  const std::string why = connect_failure(unknown);
  EXPECT_NE(why.find("no sentinel named the master 'nosuch'"), std::string::npos) << why;
}

TEST(Sentinel, SentinelsOwnPasswordFromTheQuery) {
  SentinelSetup setup("s3ntinel");
  ASSERT_TRUE(setup.ready());
  EXPECT_EQ(StrictCounter::create(
                {RedisKey("sentinel"), Client::connect(setup.url("?sentinel_password=s3ntinel"))})
                ->inc(RedisKey("k"), 2),
            2);
  ClientOptions without;
  without.url = setup.url();
  const std::string why = connect_failure(without);
  EXPECT_NE(why.find("NOAUTH"), std::string::npos) << why;
}

// Counts through a failover Sentinel is asked for (no crash), each wait
// within what is left of `budget`: every write after the client moved lands
// on the new master.
void count_through_a_failover(SentinelSetup& setup, ClientOptions options,
                              std::chrono::steady_clock::duration budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  const auto left = [deadline] {
    return std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  };
  options.command_timeout = seconds(30);
  auto counter = StrictCounter::create({RedisKey("switch"), Client::connect(options)});
  const RedisKey key("k");
  counter->inc(key, 1);
  // Right after start a sentinel may not yet judge the replica suitable
  // (NOGOODSLAVE) until it has its INFO.
  ASSERT_TRUE(wait_until([&] { return setup.fail_over() == "OK"; }, left()));
  ASSERT_TRUE(
      wait_until([&] { return setup.reported_master_port() == setup.replica_port; }, left()));
  // Sentinel names the new master before the old one has been turned into
  // a replica, and writes it takes meanwhile are lost with it (replication
  // is asynchronous). Once it is a replica, or Sentinel announces the
  // switch, the client moves: every write then lands on the new master.
  // A call in flight when the client drops the old master fails with
  // Errc::connection (its outcome is unknown, so it is not retried).
  std::int64_t value = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          value = counter->inc(key, 1);
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), Errc::connection) << e.what();
          return false;
        }
        return setup.cli(setup.replica_port, {"HGET", "switch:strict_counter", "k"}) ==
               std::to_string(value);
      },
      left()));
  for (int i = 0; i < 20; ++i) value = counter->inc(key, 1);
  EXPECT_EQ(setup.cli(setup.replica_port, {"HGET", "switch:strict_counter", "k"}),
            std::to_string(value));
}

TEST(Sentinel, FollowsAFailoverWithoutACrash) {
  SentinelSetup setup;
  ASSERT_TRUE(setup.ready());
  ClientOptions options;
  options.url = setup.url();
  count_through_a_failover(setup, options, seconds(90));
}

// rediss-sentinel://: the sentinels, the master, the replica and
// replication all speak TLS only, and the client verifies every server it
// reaches (the sentinels and both masters) against the test CA. Bounded
// well under a minute, failures included.
TEST(Sentinel, FollowsAFailoverOverVerifiedTls) {
  TestCertificates certificates;
  SentinelSetup setup("", &certificates);
  ASSERT_TRUE(setup.ready(seconds(15)));
  ClientOptions options;
  options.url = setup.url();
  options.connect_timeout = seconds(3);
  options.tls.ca_file = certificates.wrong_ca();
  const std::string why = connect_failure(options);
  EXPECT_NE(why.find("certificate verification failed"), std::string::npos) << why;
  options.tls.ca_file = certificates.ca();
  count_through_a_failover(setup, options, seconds(35));
}

TEST(Sentinel, CountingContinuesOnThePromotedReplicaWithNothingAcknowledgedLost) {
  SentinelSetup setup;
  ASSERT_TRUE(setup.ready());
  ClientOptions options;
  options.url = setup.url();
  options.command_timeout = seconds(30);  // calls during the failover wait for it
  auto client = Client::connect(options);
  auto counter = StrictCounter::create({RedisKey("failover"), client});
  const RedisKey key("k");

  std::int64_t succeeded = 0;
  std::int64_t ambiguous = 0;  // failed with the connection: may have applied
  std::int64_t durable = 0;    // acknowledged and confirmed on the replica by WAIT
  std::int64_t other_errors = 0;
  auto count = [&](int calls) {
    for (int i = 0; i < calls; ++i) {
      try {
        counter->inc(key, 1);
        ++succeeded;
      } catch (const Error& e) {
        ++(e.code() == Errc::connection ? ambiguous : other_errors);
      }
    }
  };
  while (durable < 200) {
    count(50);
    if (replicated(*client, milliseconds(1000))) durable = succeeded;
  }
  setup.kill_master();
  const std::int64_t before_failover = succeeded;
  count(50);  // spans the failover: these wait for the new master
  ASSERT_TRUE(
      wait_until([&] { return setup.reported_master_port() == setup.replica_port; }, seconds(30)));
  count(50);
  EXPECT_GE(succeeded, before_failover + 90);
  EXPECT_EQ(other_errors, 0);
  const std::int64_t value = counter->get(key);
  EXPECT_GE(value, durable) << "lost increments that WAIT confirmed";
  EXPECT_LE(value, succeeded + ambiguous);
  EXPECT_EQ(setup.cli(setup.replica_port, {"HGET", "failover:strict_counter", "k"}),
            std::to_string(value));
}

}  // namespace
}  // namespace distkit::test
