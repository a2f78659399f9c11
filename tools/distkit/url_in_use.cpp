#include "url_in_use.hpp"

#include <hiredis/hiredis.h>

#include <distkit/error.hpp>
#include <memory>
#include <string_view>

#include "redis_endpoint.hpp"

namespace distkit::tools {
namespace {

std::string& url_in_use() {
  static std::string url;
  return url;
}

// Where the user info of `url` is: [begin, end) before the '@', or nullopt.
struct UserInfo {
  std::size_t begin, end;
};
std::optional<UserInfo> user_info_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::size_t begin = scheme_end + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", begin), url.size());
  const auto at = url.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < begin) return std::nullopt;
  return UserInfo{begin, at};
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// Sends one command on `context` and returns its error reply, if any.
std::optional<std::string> error_reply(redisContext* context,
                                       const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) return std::nullopt;  // the connection failed: not a refusal
  std::optional<std::string> error;
  if (reply->type == REDIS_REPLY_ERROR) error = std::string(reply->str, reply->len);
  freeReplyObject(reply);
  return error;
}

}  // namespace

void set_url_in_use(const std::string& url) {
  url_in_use() = url;
}

std::string url_without_credentials(const std::string& url) {
  const auto user_info = user_info_of(url);
  if (!user_info) return url;
  const std::string_view info =
      std::string_view(url).substr(user_info->begin, user_info->end - user_info->begin);
  const auto colon = info.find(':');
  const std::string masked =
      colon == std::string_view::npos ? "***" : std::string(info.substr(0, colon)) + ":***";
  return url.substr(0, user_info->begin) + masked + url.substr(user_info->end);
}

std::string without_credentials(std::string message) {
  const std::string& url = url_in_use();
  const auto user_info = user_info_of(url);
  if (!user_info) return message;
  replace_all(message, url, url_without_credentials(url));
  // The password alone, as typed and as decoded, e.g. in a parser's message.
  // A very short one would mask unrelated letters, so those are left.
  const std::string_view info =
      std::string_view(url).substr(user_info->begin, user_info->end - user_info->begin);
  const auto colon = info.find(':');
  std::vector<std::string> passwords{std::string(info.substr(colon + 1))};
  try {
    if (const auto endpoint = RedisEndpoint::parse(url); !endpoint.password.empty()) {
      passwords.push_back(endpoint.password);
    }
  } catch (const Error&) {
  }
  for (const std::string& password : passwords) {
    if (password.size() >= 4) replace_all(message, password, "***");
  }
  return message;
}

std::optional<std::string> why_redis_refuses_url_in_use(bool maybe_unreachable) {
  if (url_in_use().empty()) return std::nullopt;
  RedisEndpoint endpoint;
  try {
    endpoint = RedisEndpoint::parse(url_in_use());
  } catch (const Error&) {
    return std::nullopt;
  }
  // Without AUTH or SELECT the handshake cannot have been refused: the host
  // is unreachable, and asking again would only add a connect timeout.
  if (maybe_unreachable && endpoint.password.empty() && endpoint.db == 0) return std::nullopt;
  const timeval timeout{1, 0};
  const std::unique_ptr<redisContext, void (*)(redisContext*)> context(
      redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, timeout), redisFree);
  if (context == nullptr || context->err != 0) return std::nullopt;
  redisSetTimeout(context.get(), timeout);
  if (!endpoint.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!endpoint.user.empty()) auth.push_back(endpoint.user);
    auth.push_back(endpoint.password);
    if (auto error = error_reply(context.get(), auth)) {
      return "Redis refused the URL's " +
             std::string(endpoint.user.empty() ? "password" : "user and password") +
             " (AUTH): " + *error;
    }
  } else if (auto error = error_reply(context.get(), {"PING"});
             error && error->starts_with("NOAUTH")) {
    return "Redis requires a password and the URL gives none (redis://[user]:password@host): " +
           *error;
  }
  if (endpoint.db != 0) {
    if (auto error = error_reply(context.get(), {"SELECT", std::to_string(endpoint.db)})) {
      return "Redis refused db " + std::to_string(endpoint.db) + " of the URL (SELECT): " + *error;
    }
  }
  return std::nullopt;
}

}  // namespace distkit::tools
