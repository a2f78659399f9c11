// The Redis the behaviour tests run against, and small test utilities.
#pragma once

#include <chrono>
#include <distkit/redis_key.hpp>
#include <functional>
#include <string>
#include <vector>

#include "process.hpp"

namespace distkit::test {

// REDIS_URL when set; otherwise the URL of a redis-server this process
// starts on first use and stops at exit. That server ends with the thread
// of the first call: make it from the test's own thread.
const std::string& redis_url();

// A prefix no other test (or concurrent test process) uses: the test's name,
// the process id and a counter.
RedisKey unique_prefix();

// Runs `redis-cli -u url args...` (no shell: arguments go exactly as
// given) and returns its trimmed output: an independent view of Redis.
std::string redis_cli(const std::string& url, const std::vector<std::string>& args);

// Polls `condition` every few milliseconds until it holds or `timeout`
// passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace distkit::test
