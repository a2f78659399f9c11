#include "client/request.hpp"

#include <charconv>
#include <cstring>

#include "client/cluster_slot.hpp"
#include "client/script.hpp"

namespace distkit::detail {
namespace {

// Room for "*<count>\r\n" with any std::size_t count.
constexpr std::size_t max_count_line = 1 + 20 + 2;

std::string_view format_decimal(std::int64_t value, char (&buffer)[24]) {
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return {buffer, static_cast<std::size_t>(result.ptr - buffer)};
}

// "<marker><count>\r\n" into `buffer`.
std::string_view count_line(char marker, std::size_t count, char (&buffer)[max_count_line + 1]) {
  buffer[0] = marker;
  auto result = std::to_chars(buffer + 1, buffer + sizeof buffer - 2, count);
  *result.ptr++ = '\r';
  *result.ptr++ = '\n';
  return {buffer, static_cast<std::size_t>(result.ptr - buffer)};
}

template <class Bytes>
void append(Bytes& out, std::string_view text) {
  out.insert(out.end(), text.begin(), text.end());
}

// Appends the RESP bulk string "$<size>\r\n<value>\r\n" to `out`.
template <class Bytes>
void append_bulk(Bytes& out, std::string_view value) {
  char buffer[max_count_line + 1];
  append(out, count_line('$', value.size(), buffer));
  append(out, value);
  append(out, "\r\n");
}

}  // namespace

std::int32_t Request::slot() const noexcept {
  if (keys_.empty()) return no_keys;
  const std::string_view bytes = tail();
  const std::int32_t first = cluster_key_slot(bytes.substr(keys_[0].offset, keys_[0].size));
  for (std::size_t i = 1; i < keys_.size(); ++i) {
    if (cluster_key_slot(bytes.substr(keys_[i].offset, keys_[i].size)) != first) {
      return cross_slot;
    }
  }
  return first;
}

void Request::switch_to_eval() {
  char buffer[max_count_line + 1];
  Bytes rewritten;
  append(rewritten, count_line('*', tail_arguments_ + 2, buffer));
  append_bulk(rewritten, "EVAL");
  append_bulk(rewritten, script_->body());
  const std::size_t head_size = rewritten.size();
  append(rewritten, tail());
  bytes_ = std::move(rewritten);
  head_begin_ = 0;
  tail_begin_ = head_size;
  uses_eval_ = true;
}

// The builder leaves room for the argument count, then writes the command
// name (and script reference) and the arguments after it; build() puts the
// count right before the name.
RequestBuilder::RequestBuilder(std::string_view command) {
  request_.bytes_.resize(max_count_line);
  append_bulk(request_.bytes_, command);
  request_.tail_begin_ = request_.bytes_.size();
}

RequestBuilder::RequestBuilder(const Script& script, std::size_t num_keys)
    : RequestBuilder("EVALSHA") {
  request_.script_ = &script;
  append_bulk(request_.bytes_, script.sha1());
  request_.tail_begin_ = request_.bytes_.size();
  arg(static_cast<std::int64_t>(num_keys));
  script_keys_left_ = num_keys;
}

RequestBuilder& RequestBuilder::arg(std::string_view value) {
  if (script_keys_left_ > 0) {
    --script_keys_left_;
    return key(value);
  }
  append_bulk(request_.bytes_, value);
  ++request_.tail_arguments_;
  return *this;
}

RequestBuilder& RequestBuilder::arg(std::int64_t value) {
  char buffer[24];
  return arg(format_decimal(value, buffer));
}

RequestBuilder& RequestBuilder::key(std::string_view value) {
  append_bulk(request_.bytes_, value);
  const std::size_t end = request_.bytes_.size() - 2 - request_.tail_begin_;
  request_.keys_.push_back(
      {static_cast<std::uint32_t>(end - value.size()), static_cast<std::uint32_t>(value.size())});
  ++request_.tail_arguments_;
  return *this;
}

Request RequestBuilder::build() {
  const std::size_t head_words = request_.script_ != nullptr ? 2 : 1;
  char buffer[max_count_line + 1];
  const std::string_view count = count_line('*', request_.tail_arguments_ + head_words, buffer);
  request_.head_begin_ = max_count_line - count.size();
  std::memcpy(request_.bytes_.data() + request_.head_begin_, count.data(), count.size());
  return std::move(request_);
}

}  // namespace distkit::detail
