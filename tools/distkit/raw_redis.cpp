#include "raw_redis.hpp"

#include <hiredis/hiredis.h>

#include <stdexcept>

namespace distkit::tools {
namespace {

std::string reply_text(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_INTEGER) return std::to_string(reply.integer);
  return reply.str != nullptr ? std::string(reply.str, reply.len) : std::string();
}

}  // namespace

PreparedCommand::PreparedCommand(std::vector<std::string> args) : args_(std::move(args)) {
  for (const std::string& arg : args_) {
    pointers_.push_back(arg.data());
    lengths_.push_back(arg.size());
  }
}

RawRedis::RawRedis(const RedisEndpoint& endpoint) {
  context_ = redisConnect(endpoint.host.c_str(), endpoint.port);
  if (context_ == nullptr || context_->err != 0) {
    const std::string why = context_ != nullptr ? context_->errstr : "out of memory";
    redisFree(context_);
    throw std::runtime_error("hiredis cannot connect to " + endpoint.host + ":" +
                             std::to_string(endpoint.port) + ": " + why);
  }
  try {
    if (!endpoint.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!endpoint.user.empty()) auth.push_back(endpoint.user);
      auth.push_back(endpoint.password);
      query(auth);
    }
    if (endpoint.db != 0) query({"SELECT", std::to_string(endpoint.db)});
  } catch (...) {
    redisFree(context_);
    throw;
  }
}

RawRedis::~RawRedis() {
  redisFree(context_);
}

void RawRedis::check_and_free(void* raw_reply) {
  auto* reply = static_cast<redisReply*>(raw_reply);
  if (reply == nullptr) throw std::runtime_error(std::string("hiredis: ") + context_->errstr);
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string error = reply_text(*reply);
    freeReplyObject(reply);
    throw std::runtime_error("Redis: " + error);
  }
  freeReplyObject(reply);
}

std::string RawRedis::query(const std::vector<std::string>& args) {
  const PreparedCommand command(args);
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context_, command.argc(), command.argv(), command.lengths()));
  std::string text = reply != nullptr ? reply_text(*reply) : std::string();
  check_and_free(reply);
  return text;
}

void RawRedis::execute(const PreparedCommand& command) {
  check_and_free(redisCommandArgv(context_, command.argc(), command.argv(), command.lengths()));
}

void RawRedis::execute_pipelined(std::span<const PreparedCommand> commands) {
  for (const PreparedCommand& command : commands) {
    if (redisAppendCommandArgv(context_, command.argc(), command.argv(), command.lengths()) !=
        REDIS_OK) {
      throw std::runtime_error(std::string("hiredis: ") + context_->errstr);
    }
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK) reply = nullptr;
    check_and_free(reply);
  }
}

}  // namespace distkit::tools
