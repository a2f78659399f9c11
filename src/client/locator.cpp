#include "client/locator.hpp"

#include <boost/asio/post.hpp>

namespace distkit::detail {
namespace {

class FixedLocator final : public Locator {
 public:
  FixedLocator(const boost::asio::any_io_executor& strand, ServerAddress address)
      : strand_(strand), address_(std::move(address)) {}

  void async_locate(Located done) override {
    boost::asio::post(strand_, [address = address_, done = std::move(done)]() mutable {
      done(std::move(address), {});
    });
  }

  bool requires_master() const noexcept override { return false; }
  void close() override {}

 private:
  boost::asio::any_io_executor strand_;
  ServerAddress address_;
};

}  // namespace

std::unique_ptr<Locator> make_fixed_locator(const boost::asio::any_io_executor& strand,
                                            ServerAddress address) {
  return std::make_unique<FixedLocator>(strand, std::move(address));
}

}  // namespace distkit::detail
