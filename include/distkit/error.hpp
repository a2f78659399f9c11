// Error reporting for distkit.
//
// Blocking calls throw distkit::Error; asynchronous calls complete with a
// boost::system::error_code. In both cases compare the code against an Errc:
//
//   catch (const distkit::Error& e) {
//     if (e.code() == distkit::Errc::overflow) { ... }
//   }
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <string>
#include <type_traits>

namespace distkit {

enum class Errc {
  invalid_key = 1,   // a key or prefix failed validation; nothing was sent
  invalid_argument,  // a bad option, URL or argument; nothing was sent
  connection,        // Redis unreachable, or the connection dropped before the reply
  timeout,           // no reply within the command timeout
  redis,             // Redis answered with an error (WRONGTYPE, a non-integer field, ...)
  overflow,          // the result would leave the int64 range; nothing was changed
  closed,            // the client or counter was already shut down
};

// The category of every Errc. Its name() is "distkit". Thread-safe.
const boost::system::error_category& error_category() noexcept;

// Makes an error_code of error_category(); found by ADL so that
// `ec == Errc::timeout` and `error_code ec = Errc::timeout` work.
boost::system::error_code make_error_code(Errc e) noexcept;

// The exception every blocking distkit call throws. code() holds an Errc;
// what() is "<detail>: <message of the code>", or just the message.
class Error : public boost::system::system_error {
 public:
  explicit Error(Errc code);
  Error(Errc code, const std::string& detail);
  explicit Error(boost::system::error_code code);
  Error(boost::system::error_code code, const std::string& detail);

  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

}  // namespace distkit

template <>
struct boost::system::is_error_code_enum<distkit::Errc> : std::true_type {};
