// The tests' private redis-server: the tool's LocalRedisServer.
#pragma once

#include "local_redis_server.hpp"

namespace distkit::test {
using RedisServer = tools::LocalRedisServer;
}  // namespace distkit::test
