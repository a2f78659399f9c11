#include "client/reply_reader.hpp"

#include <gtest/gtest.h>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

TEST(ReplyReader, DecodesScalarKinds) {
  using namespace std::string_view_literals;
  ReplyReader reader;
  reader.feed("+OK\r\n-ERR boom\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n"sv);
  auto status = reader.next();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->kind, Reply::Kind::status);
  EXPECT_EQ(status->text, "OK");
  auto error = reader.next();
  ASSERT_TRUE(error);
  EXPECT_TRUE(error->is_error());
  EXPECT_TRUE(error->is_error_code("ERR"));
  EXPECT_FALSE(error->is_error_code("ER"));
  auto integer = reader.next();
  ASSERT_TRUE(integer);
  EXPECT_EQ(integer->integer, -42);
  auto bulk = reader.next();
  ASSERT_TRUE(bulk);
  EXPECT_EQ(bulk->text, std::string("a\0b", 3));
  auto nil = reader.next();
  ASSERT_TRUE(nil);
  EXPECT_EQ(nil->kind, Reply::Kind::nil);
  EXPECT_FALSE(reader.next());
}

TEST(ReplyReader, DecodesNestedArraysFedByteByByte) {
  const std::string wire = "*3\r\n$1\r\n1\r\n*2\r\n:7\r\n$-1\r\n*0\r\n";
  ReplyReader reader;
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    reader.feed(wire.substr(i, 1));
    EXPECT_FALSE(reader.next()) << "complete after " << i + 1 << " bytes";
  }
  reader.feed(wire.substr(wire.size() - 1));
  auto reply = reader.next();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->kind, Reply::Kind::array);
  ASSERT_EQ(reply->elements.size(), 3u);
  EXPECT_EQ(reply->elements[0].text, "1");
  ASSERT_EQ(reply->elements[1].elements.size(), 2u);
  EXPECT_EQ(reply->elements[1].elements[0].integer, 7);
  EXPECT_EQ(reply->elements[1].elements[1].kind, Reply::Kind::nil);
  EXPECT_TRUE(reply->elements[2].elements.empty());
}

TEST(ReplyReader, ProtocolErrorThrowsConnection) {
  ReplyReader reader;
  reader.feed("?what\r\n");
  try {
    reader.next();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::connection);
  }
}

TEST(ReplyReader, LetsGoOfABufferGrownByALargeReply) {
  ReplyReader reader;
  const std::string value(32 << 20, 'x');
  reader.feed("$" + std::to_string(value.size()) + "\r\n" + value + "\r\n");
  EXPECT_GE(reader.buffer_capacity(), value.size());
  auto large = reader.next();
  ASSERT_TRUE(large);
  EXPECT_EQ(large->text.size(), value.size());
  EXPECT_FALSE(reader.next());
  reader.feed("+OK\r\n");
  EXPECT_LT(reader.buffer_capacity(), std::size_t{2} << 20);
  EXPECT_EQ(reader.next()->text, "OK");
}

TEST(ReplyReader, ADeclaredArraySizeIsNotAllocatedUpFront) {
  // A server (or whatever listens on the port) may declare any count; the
  // reader must not size memory from it before the elements arrive.
  ReplyReader reader;
  reader.feed("*999999999\r\n:1\r\n*2\r\n:2\r\n");
  EXPECT_FALSE(reader.next());
}

TEST(ReplyReader, NestedArraysGrowInPlace) {
  ReplyReader reader;
  std::string bytes = "*5000\r\n";
  for (int i = 0; i < 5000; ++i) bytes += "*2\r\n:" + std::to_string(i) + "\r\n$1\r\nx\r\n";
  reader.feed(bytes);
  const auto reply = reader.next();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->elements.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(reply->elements[static_cast<std::size_t>(i)].elements.size(), 2u);
    EXPECT_EQ(reply->elements[static_cast<std::size_t>(i)].elements[0].integer, i);
    EXPECT_EQ(reply->elements[static_cast<std::size_t>(i)].elements[1].text, "x");
  }
}

}  // namespace
}  // namespace distkit::detail
