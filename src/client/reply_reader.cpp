#include "client/reply_reader.hpp"

#include <hiredis/read.h>
#include <hiredis/sds.h>

#include <algorithm>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

constexpr std::size_t kept_buffer_capacity = 1 << 20;

// An array reserves room for at most this many elements up front: the count
// is the server's word, and "*999999999" must not allocate gigabytes before
// a single element has arrived.
constexpr std::size_t max_reserved_elements = 4096;

// hiredis hands every callback the task being parsed; a nested element is
// stored straight into its parent's element vector so the tree is built
// without copies. Elements arrive in index order, and the vector grows only
// when the next sibling arrives, after every earlier sibling (and the
// pointer hiredis kept to it) is complete. Only the root is heap-allocated
// (and freed by us or by freeObject when hiredis discards a partial reply);
// the reader hands the root of the previous reply back through the task's
// privdata, so a stream of replies reuses one allocation.
Reply* place(const redisReadTask* task, Reply value) {
  if (task->parent != nullptr) {
    auto* parent = static_cast<Reply*>(task->parent->obj);
    const auto index = static_cast<std::size_t>(task->idx);
    if (parent->elements.size() <= index) parent->elements.resize(index + 1);
    Reply& slot = parent->elements[index];
    slot = std::move(value);
    return &slot;
  }
  auto* spare = static_cast<std::unique_ptr<Reply>*>(task->privdata);
  if (spare == nullptr || *spare == nullptr) return new Reply(std::move(value));
  Reply* root = spare->release();
  *root = std::move(value);
  return root;
}

void* create_string(const redisReadTask* task, char* data, size_t length) {
  Reply reply;
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      reply.kind = Reply::Kind::error;
      break;
    case REDIS_REPLY_STATUS:
      reply.kind = Reply::Kind::status;
      break;
    default:
      reply.kind = Reply::Kind::string;
      break;
  }
  reply.text.assign(data, length);
  return place(task, std::move(reply));
}

void* create_array(const redisReadTask* task, int elements) {
  Reply reply;
  reply.kind = Reply::Kind::array;
  reply.elements.reserve(std::min(static_cast<std::size_t>(elements), max_reserved_elements));
  return place(task, std::move(reply));
}

void* create_integer(const redisReadTask* task, long long value) {
  Reply reply;
  reply.kind = Reply::Kind::integer;
  reply.integer = value;
  return place(task, std::move(reply));
}

void* create_nil(const redisReadTask* task) {
  return place(task, Reply{});
}

void free_object(void* object) {
  delete static_cast<Reply*>(object);
}

redisReplyObjectFunctions reply_functions = {create_string, create_array, create_integer,
                                             create_nil, free_object};

}  // namespace

void ReplyReader::Deleter::operator()(void* reader) const noexcept {
  redisReaderFree(static_cast<redisReader*>(reader));
}

ReplyReader::ReplyReader() : reader_(redisReaderCreateWithFunctions(&reply_functions)) {
  if (!reader_) throw std::bad_alloc();
  // Keep a buffer of ordinary size between replies (the connection streams
  // them continuously), but let go of one grown by a large reply once it has
  // been consumed, instead of keeping its peak size until reconnect.
  static_cast<redisReader*>(reader_.get())->maxbuf = kept_buffer_capacity;
  static_cast<redisReader*>(reader_.get())->privdata = &spare_root_;
}

ReplyReader::~ReplyReader() = default;

void ReplyReader::feed(std::string_view bytes) {
  auto* reader = static_cast<redisReader*>(reader_.get());
  if (redisReaderFeed(reader, bytes.data(), bytes.size()) != REDIS_OK) {
    throw Error(Errc::connection, "RESP reader: " + std::string(reader->errstr));
  }
}

std::size_t ReplyReader::buffer_capacity() const noexcept {
  const auto* reader = static_cast<const redisReader*>(reader_.get());
  return sdslen(reader->buf) + sdsavail(reader->buf);
}

std::optional<Reply> ReplyReader::next() {
  auto* reader = static_cast<redisReader*>(reader_.get());
  void* object = nullptr;
  if (redisReaderGetReply(reader, &object) != REDIS_OK) {
    throw Error(Errc::connection, "RESP protocol error: " + std::string(reader->errstr));
  }
  if (object == nullptr) return std::nullopt;
  std::unique_ptr<Reply> root(static_cast<Reply*>(object));
  std::optional<Reply> reply(std::move(*root));
  spare_root_ = std::move(root);
  return reply;
}

}  // namespace distkit::detail
