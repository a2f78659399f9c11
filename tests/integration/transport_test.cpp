// Unix sockets and TLS (verification, wrong CA, names, mutual TLS) against
// real redis-servers started on free loopback ports.
#include <gtest/gtest.h>

#include <distkit/distkit.hpp>

#include "counter_fixture.hpp"
#include "local_redis_server.hpp"
#include "server_process.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;

class UnixSocket : public testing::Test {
 protected:
  TempDir dir;
  std::string socket = dir.file("redis.sock");
  ServerProcess server{{"redis-server", "--port", "0", "--unixsocket", socket, "--unixsocketperm",
                        "700", "--dir", dir.path(), "--save", "", "--appendonly", "no",
                        "--requirepass", "pw"}};
  void SetUp() override {
    ASSERT_TRUE(wait_for_pong({"-s", socket, "-a", "pw", "--no-auth-warning"}));
  }
};

TEST_F(UnixSocket, CountsWithDbAndPasswordFromTheQuery) {
  auto counter = StrictCounter::create(
      {RedisKey("unix"), Client::connect("unix://" + socket + "?db=3&password=pw")});
  EXPECT_EQ(counter->inc(RedisKey("k"), 4), 4);
  EXPECT_EQ(run_process({"redis-cli", "-s", socket, "-a", "pw", "--no-auth-warning", "-n", "3",
                         "HGET", "unix:strict_counter", "k"}),
            "4");
}

TEST_F(UnixSocket, WrongPasswordAndMissingSocketAreConnectionErrors) {
  ClientOptions options;
  options.url = "unix://" + socket + "?password=nope";
  EXPECT_NE(connect_failure(options).find("authentication failed"), std::string::npos);
  options.url = "unix://" + dir.file("missing.sock");
  EXPECT_NE(connect_failure(options).find("missing.sock"), std::string::npos);
}

// A TLS-only redis-server with certificates made for this test.
class TlsRedis {
 public:
  explicit TlsRedis(bool require_client_certificates)
      : server_({"redis-server",
                 "--port",
                 "0",
                 "--tls-port",
                 port,
                 "--bind",
                 "127.0.0.1",
                 "--tls-cert-file",
                 certificates.server_cert(),
                 "--tls-key-file",
                 certificates.server_key(),
                 "--tls-ca-cert-file",
                 certificates.ca(),
                 "--tls-auth-clients",
                 require_client_certificates ? "yes" : "no",
                 "--dir",
                 dir_.path(),
                 "--save",
                 "",
                 "--appendonly",
                 "no"}) {}

  bool ready() {
    return wait_for_pong({"--tls", "--cacert", certificates.ca(), "--cert",
                          certificates.client_cert(), "--key", certificates.client_key(), "-h",
                          "127.0.0.1", "-p", port});
  }

  // Options that verify the server against the test CA.
  ClientOptions options(const std::string& host = "127.0.0.1") const {
    ClientOptions result;
    result.url = "rediss://" + host + ":" + port;
    result.connect_timeout = milliseconds(3000);
    result.tls.ca_file = certificates.ca();
    return result;
  }

  void restart() {
    server_.stop();
    server_.start();
  }

  TestCertificates certificates;
  const std::string port = std::to_string(tools::free_loopback_port());

 private:
  TempDir dir_;
  ServerProcess server_;
};

class Tls : public testing::Test {
 protected:
  TlsRedis redis{false};
  void SetUp() override { ASSERT_TRUE(redis.ready()); }
};

TEST_F(Tls, VerifiedByIpAddressAndByHostName) {
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto counter = StrictCounter::create({RedisKey("tls"), Client::connect(redis.options(host))});
    counter->inc(RedisKey("k"), 1);
  }
  auto counter = StrictCounter::create({RedisKey("tls"), Client::connect(redis.options())});
  EXPECT_EQ(counter->get(RedisKey("k")), 2);
}

TEST_F(Tls, WrongCaIsRefusedWithTheReason) {
  ClientOptions options = redis.options();
  options.tls.ca_file = redis.certificates.wrong_ca();
  const std::string why = connect_failure(options);
  EXPECT_NE(why.find("certificate verification failed"), std::string::npos) << why;
}

TEST_F(Tls, VerificationIsOnByDefaultAgainstTheSystemCAs) {
  ClientOptions options = redis.options();
  options.tls.ca_file.clear();  // the system's CAs do not know the test CA
  EXPECT_NE(connect_failure(options).find("certificate verification failed"), std::string::npos);
}

TEST_F(Tls, ANameTheCertificateDoesNotCarryIsRefused) {
  ClientOptions options = redis.options();
  options.tls.server_name = "cache.example.com";
  const std::string why = connect_failure(options);
  EXPECT_NE(why.find("hostname mismatch (verifying 'cache.example.com')"), std::string::npos)
      << why;
}

TEST_F(Tls, VerifyPeerFalseSkipsVerification) {
  ClientOptions options = redis.options();
  options.tls.ca_file = redis.certificates.wrong_ca();
  options.tls.verify_peer = false;
  StrictCounter::create({RedisKey("tls"), Client::connect(options)})->inc(RedisKey("k"), 1);
}

TEST_F(Tls, PlaintextToATlsPortFailsWithinTheConnectTimeout) {
  ClientOptions options = redis.options();
  options.url = "redis://127.0.0.1:" + redis.port;
  options.connect_timeout = milliseconds(500);
  connect_failure(options);
}

TEST_F(Tls, UnusableFilesAreInvalidArgument) {
  ClientOptions options = redis.options();
  options.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_DISTKIT_ERROR(Client::connect(options), Errc::invalid_argument);
  options = redis.options();
  options.tls.cert_file = redis.certificates.client_cert();  // without its key
  EXPECT_DISTKIT_ERROR(Client::connect(options), Errc::invalid_argument);
}

TEST_F(Tls, ReconnectsAfterARestart) {
  auto counter = StrictCounter::create({RedisKey("tls"), Client::connect(redis.options())});
  counter->inc(RedisKey("k"), 1);
  redis.restart();
  ASSERT_TRUE(redis.ready());
  EXPECT_TRUE(eventually([&] { counter->inc(RedisKey("k"), 1); }, std::chrono::seconds(10)));
}

TEST(MutualTls, ClientCertificateIsRequiredAndAccepted) {
  TlsRedis redis(true);
  ASSERT_TRUE(redis.ready());
  ClientOptions options = redis.options();
  connect_failure(options);
  options.tls.cert_file = redis.certificates.client_cert();
  options.tls.key_file = redis.certificates.client_key();
  EXPECT_EQ(
      StrictCounter::create({RedisKey("mtls"), Client::connect(options)})->inc(RedisKey("k"), 2),
      2);
}

}  // namespace
}  // namespace distkit::test
