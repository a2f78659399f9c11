// Library-internal access to a Client's connection.
#pragma once

#include <initializer_list>
#include <memory>
#include <string_view>

#include "client/connection.hpp"
#include "distkit/client.hpp"

namespace distkit::detail {

struct ClientAccess {
  static const std::shared_ptr<Connection>& connection(const Client& client) noexcept {
    return client.connection_;
  }

  // The one check counters make at creation so that Redis Cluster can run
  // their commands and scripts: on a cluster client, throws
  // Error{Errc::invalid_argument} with `refusal` followed by the slot of
  // every key when `keys` do not all share one hash slot. Does nothing on
  // other clients.
  static void require_one_slot(const Client& client, std::initializer_list<std::string_view> keys,
                               std::string_view refusal);

  // On a cluster client, throws Error{Errc::invalid_argument} with
  // `refusal` when `prefix` has no hash tag ('{...}', not empty), which a
  // counter needs whose keys are named at run time (one per instance).
  static void require_hash_tag(const Client& client, std::string_view prefix,
                               std::string_view refusal);
};

}  // namespace distkit::detail
