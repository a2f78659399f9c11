// Library-internal access to a Client's connection.
#pragma once

#include <memory>

#include "client/connection.hpp"
#include "distkit/client.hpp"

namespace distkit::detail {

struct ClientAccess {
  static const std::shared_ptr<Connection>& connection(const Client& client) noexcept {
    return client.connection_;
  }
};

}  // namespace distkit::detail
