// A plain hiredis connection: the bench's baseline, and its view of the
// server's statistics.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "redis_endpoint.hpp"

struct redisContext;

namespace distkit::tools {

// A command's arguments together with the pointer and length arrays hiredis
// takes, so that sending it again costs no allocation: the baseline's loop
// should be as lean as a careful hiredis user would write it.
class PreparedCommand {
 public:
  explicit PreparedCommand(std::vector<std::string> args);
  PreparedCommand(const PreparedCommand&) = delete;
  PreparedCommand& operator=(const PreparedCommand&) = delete;
  PreparedCommand(PreparedCommand&&) = default;
  PreparedCommand& operator=(PreparedCommand&&) = default;

 private:
  friend class RawRedis;
  int argc() const { return static_cast<int>(pointers_.size()); }
  // hiredis 0.14 declares the array `const char**` but only reads it.
  const char** argv() const { return const_cast<const char**>(pointers_.data()); }
  const std::size_t* lengths() const { return lengths_.data(); }

  std::vector<std::string> args_;
  std::vector<const char*> pointers_;
  std::vector<std::size_t> lengths_;
};

// Blocking. Every method throws std::runtime_error on an error reply or a
// lost connection.
class RawRedis {
 public:
  // Connects and authenticates / selects the database as `endpoint` says.
  explicit RawRedis(const RedisEndpoint& endpoint);
  ~RawRedis();
  RawRedis(const RawRedis&) = delete;
  RawRedis& operator=(const RawRedis&) = delete;

  // One round trip; the reply as text (an integer reply in decimal).
  std::string query(const std::vector<std::string>& args);
  // One round trip, the reply checked and discarded.
  void execute(const PreparedCommand& command);
  // Sends every command in one write, then reads every reply.
  void execute_pipelined(std::span<const PreparedCommand> commands);

 private:
  void check_and_free(void* reply);

  redisContext* context_ = nullptr;
};

}  // namespace distkit::tools
