#include "test_env.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <thread>

#include "redis_server.hpp"

namespace distkit::test {

const std::string& redis_url() {
  static const std::string url = [] {
    if (const char* from_env = std::getenv("REDIS_URL"); from_env != nullptr && *from_env) {
      return std::string(from_env);
    }
    static const auto server = std::make_unique<RedisServer>();
    return server->url();
  }();
  return url;
}

RedisKey unique_prefix() {
  static std::atomic<int> sequence{0};
  std::string name = "test";
  if (const auto* info = testing::UnitTest::GetInstance()->current_test_info()) {
    name = std::string(info->test_suite_name()) + "." + info->name();
  }
  name += "." + std::to_string(getpid()) + "." + std::to_string(sequence++);
  if (name.size() > RedisKey::max_size) name.erase(0, name.size() - RedisKey::max_size);
  return RedisKey::sanitize(name);
}

std::string redis_cli(const std::string& url, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"redis-cli", "-u", url};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace distkit::test
