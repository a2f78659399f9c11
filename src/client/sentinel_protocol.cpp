#include "client/sentinel_protocol.hpp"

#include <charconv>
#include <sstream>
#include <vector>

#include "client/request.hpp"

namespace distkit::detail {
namespace {

void append_auth(std::string& out, const Credentials& credentials) {
  if (!credentials.password) return;
  RequestBuilder auth("AUTH");
  if (credentials.user) auth.arg(*credentials.user);
  Request request = auth.arg(*credentials.password).build();
  out += request.head();
  out += request.tail();
}

void append(std::string& out, Request request) {
  out += request.head();
  out += request.tail();
}

std::optional<std::uint16_t> port_of(std::string_view text) {
  std::uint32_t port = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, port);
  if (ec != std::errc{} || ptr != end || port == 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

}  // namespace

std::string encode_master_query(const Credentials& credentials, std::string_view master_name) {
  std::string out;
  append_auth(out, credentials);
  append(out, RequestBuilder("SENTINEL").arg("GET-MASTER-ADDR-BY-NAME").arg(master_name).build());
  return out;
}

std::string encode_switch_master_subscription(const Credentials& credentials) {
  std::string out;
  append_auth(out, credentials);
  append(out, RequestBuilder("SUBSCRIBE").arg("+switch-master").build());
  return out;
}

std::size_t replies_for(const Credentials& credentials) {
  return credentials.password ? 2 : 1;
}

std::optional<ServerAddress> parse_master_address(const Reply& reply, std::string& why) {
  if (reply.is_error()) {
    why = reply.text;
    return std::nullopt;
  }
  if (reply.kind == Reply::Kind::nil) {
    why = "the sentinel does not know this master";
    return std::nullopt;
  }
  if (reply.kind != Reply::Kind::array || reply.elements.size() != 2 ||
      reply.elements[0].kind != Reply::Kind::string || reply.elements[0].text.empty()) {
    why = "malformed reply to SENTINEL GET-MASTER-ADDR-BY-NAME";
    return std::nullopt;
  }
  const auto port = port_of(reply.elements[1].text);
  if (!port) {
    why = "malformed port in the reply to SENTINEL GET-MASTER-ADDR-BY-NAME";
    return std::nullopt;
  }
  return ServerAddress{reply.elements[0].text, *port, {}};
}

std::optional<ServerAddress> parse_switch_master(const Reply& message,
                                                 std::string_view master_name) {
  if (message.kind != Reply::Kind::array || message.elements.size() != 3 ||
      message.elements[0].text != "message" || message.elements[1].text != "+switch-master") {
    return std::nullopt;
  }
  std::istringstream words(message.elements[2].text);
  std::vector<std::string> fields;
  for (std::string word; words >> word;) fields.push_back(std::move(word));
  if (fields.size() != 5 || fields[0] != master_name) return std::nullopt;
  const auto port = port_of(fields[4]);
  if (!port) return std::nullopt;
  return ServerAddress{fields[3], *port, {}};
}

}  // namespace distkit::detail
