#include "distkit/error.hpp"

namespace distkit {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "distkit"; }

  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::invalid_key:
        return "invalid key";
      case Errc::invalid_argument:
        return "invalid argument";
      case Errc::connection:
        return "Redis connection failed";
      case Errc::timeout:
        return "Redis command timed out";
      case Errc::redis:
        return "Redis error";
      case Errc::overflow:
        return "int64 overflow";
      case Errc::closed:
        return "closed";
    }
    return "unknown distkit error";
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

Error::Error(Errc code) : Error(make_error_code(code)) {}
Error::Error(Errc code, const std::string& detail) : Error(make_error_code(code), detail) {}
Error::Error(boost::system::error_code code) : Error(code, std::string()) {}
Error::Error(boost::system::error_code code, const std::string& detail)
    : boost::system::system_error(code, detail),
      what_(detail.empty() ? code.message() : detail + ": " + code.message()) {}

}  // namespace distkit
