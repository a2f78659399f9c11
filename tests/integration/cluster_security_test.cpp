// Redis Cluster over TLS (rediss-cluster://, TLS on the cluster bus too)
// and with requirepass/masterauth: every node gets the TLS settings and the
// URL's password. One private cluster of 3 masters, no replicas, per test.
#include <gtest/gtest.h>

#include <distkit/distkit.hpp>

#include "local_redis_cluster.hpp"
#include "test_env.hpp"

namespace distkit::test {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds command_timeout{2000};

// Strict and lax counters, one shard and several (spread over every
// master), count through `client` and read back exactly through a second
// client made with the same `options`.
void count_on_every_master(const std::shared_ptr<Client>& client, const ClientOptions& options) {
  const RedisKey key("k");
  std::vector<KeyCount> updates;
  std::vector<RedisKey> keys;
  std::vector<std::int64_t> expected;
  for (int i = 0; i < 60; ++i) {
    keys.emplace_back("k" + std::to_string(i));
    updates.push_back({keys.back(), i});
    expected.push_back(i);
  }
  auto reader = Client::connect(options);
  for (const int shards : {1, 6}) {
    CounterOptions counter_options(unique_prefix(), client);
    counter_options.shards = shards;
    auto strict = StrictCounter::create(counter_options);
    auto lax = LaxCounter::create(counter_options);
    for (const std::shared_ptr<Counter>& counter :
         {std::shared_ptr<Counter>(strict), std::shared_ptr<Counter>(lax)}) {
      EXPECT_EQ(counter->inc(key, 5), 5);
      EXPECT_EQ(counter->inc_all(updates), expected);
    }
    lax->flush();
    CounterOptions read_options = counter_options;
    read_options.client = reader;
    EXPECT_EQ(StrictCounter::create(read_options)->get(key), 5) << shards << " shards";
    EXPECT_EQ(StrictCounter::create(read_options)->get_all(keys), expected) << shards << " shards";
    EXPECT_EQ(LaxCounter::create(read_options)->get(key), 5) << shards << " shards";
    EXPECT_EQ(LaxCounter::create(read_options)->get_all(keys), expected) << shards << " shards";
    strict->clear();
    lax->clear();
  }
}

// Why Client::connect(options) failed; fails the test when it did not.
std::string connect_failure(const ClientOptions& options, Errc expected) {
  try {
    Client::connect(options);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "connected to " << options.url;
  return {};
}

TEST(ClusterSecurity, CountersOverTls) {
  tools::LocalClusterOptions cluster_options;
  cluster_options.tls = true;
  const tools::LocalRedisCluster cluster(cluster_options);
  ClientOptions options;
  options.url = cluster.tls_url();
  options.tls.ca_file = cluster.ca_file();
  options.command_timeout = command_timeout;
  count_on_every_master(Client::connect(options), options);

  // The nodes' certificates are checked like a single Redis's.
  options.tls.ca_file.clear();  // the system's CAs do not know the test CA
  options.connect_timeout = milliseconds(1000);
  const std::string why = connect_failure(options, Errc::connection);
  EXPECT_NE(why.find("cannot connect to Redis Cluster"), std::string::npos) << why;
}

TEST(ClusterSecurity, CountersWithAPassword) {
  tools::LocalClusterOptions cluster_options;
  cluster_options.password = "sesame";
  const tools::LocalRedisCluster cluster(cluster_options);
  ClientOptions options;
  options.url = cluster.url();
  ASSERT_NE(options.url.find(":sesame@"), std::string::npos) << options.url;
  options.command_timeout = command_timeout;
  count_on_every_master(Client::connect(options), options);

  options.url.replace(options.url.find(":sesame@"), 8, ":nope@");
  options.connect_timeout = milliseconds(1000);
  const std::string wrong = connect_failure(options, Errc::connection);
  EXPECT_NE(wrong.find("WRONGPASS"), std::string::npos) << wrong;
  EXPECT_EQ(wrong.find("nope"), std::string::npos) << wrong;
  options.url.replace(options.url.find(":nope@"), 6, "");
  const std::string missing = connect_failure(options, Errc::connection);
  EXPECT_NE(missing.find("NOAUTH"), std::string::npos) << missing;
}

}  // namespace
}  // namespace distkit::test
