#include "client/request.hpp"

#include <charconv>

#include "client/cluster_slot.hpp"
#include "client/script.hpp"

namespace distkit::detail {
namespace {

std::string_view format_decimal(std::int64_t value, char (&buffer)[24]) {
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return {buffer, static_cast<std::size_t>(result.ptr - buffer)};
}

void append_count(std::string& out, char marker, std::size_t count) {
  char buffer[24];
  out += marker;
  out += format_decimal(static_cast<std::int64_t>(count), buffer);
  out += "\r\n";
}

// "*<argc>\r\n" followed by the command name and the script reference.
std::string encode_head(std::size_t tail_arguments, std::string_view command,
                        std::string_view script_ref) {
  std::string head;
  head.reserve(32 + script_ref.size());
  const bool is_script = !script_ref.empty();
  append_count(head, '*', tail_arguments + (is_script ? 2 : 1));
  append_bulk(head, command);
  if (is_script) append_bulk(head, script_ref);
  return head;
}

}  // namespace

void append_bulk(std::string& out, std::string_view value) {
  append_count(out, '$', value.size());
  out += value;
  out += "\r\n";
}

void Request::switch_to_eval() {
  head_ = encode_head(tail_arguments_, "EVAL", script_->body());
  uses_eval_ = true;
}

RequestBuilder::RequestBuilder(std::string_view command) : command_(command) {}

RequestBuilder::RequestBuilder(const Script& script, std::size_t num_keys) : command_("EVALSHA") {
  request_.script_ = &script;
  arg(static_cast<std::int64_t>(num_keys));
  script_keys_left_ = num_keys;
}

RequestBuilder& RequestBuilder::arg(std::string_view value) {
  if (script_keys_left_ > 0) {
    --script_keys_left_;
    return key(value);
  }
  append_bulk(request_.tail_, value);
  ++request_.tail_arguments_;
  return *this;
}

RequestBuilder& RequestBuilder::arg(std::int64_t value) {
  char buffer[24];
  return arg(format_decimal(value, buffer));
}

RequestBuilder& RequestBuilder::key(std::string_view value) {
  const std::int32_t slot = cluster_key_slot(value);
  if (request_.slot_ == Request::no_keys) {
    request_.slot_ = slot;
  } else if (request_.slot_ != slot) {
    request_.slot_ = Request::cross_slot;
  }
  append_bulk(request_.tail_, value);
  ++request_.tail_arguments_;
  return *this;
}

Request RequestBuilder::build() {
  const std::string_view script_ref =
      request_.script_ != nullptr ? std::string_view(request_.script_->sha1()) : "";
  request_.head_ = encode_head(request_.tail_arguments_, command_, script_ref);
  return std::move(request_);
}

}  // namespace distkit::detail
