// What Sentinel says, as commands and replies (sans-IO).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "client/reply.hpp"
#include "client/transport.hpp"
#include "client/url.hpp"

namespace distkit::detail {

// The bytes asking a sentinel for the master `master_name` (after AUTH when
// `credentials` has a password).
std::string encode_master_query(const Credentials& credentials, std::string_view master_name);

// The bytes subscribing to +switch-master (after AUTH when `credentials`
// has a password).
std::string encode_switch_master_subscription(const Credentials& credentials);

// How many replies the bytes above produce before the answer (or the
// subscription confirmation) arrives: 1, or 2 with AUTH.
std::size_t replies_for(const Credentials& credentials);

// The reply to SENTINEL GET-MASTER-ADDR-BY-NAME: the address, or nullopt
// with `why` set (the sentinel does not know the master, or answered an
// error or something malformed).
std::optional<ServerAddress> parse_master_address(const Reply& reply, std::string& why);

// A message pushed on the +switch-master channel ("<master> <old ip> <old
// port> <new ip> <new port>"): the new address when it is about
// `master_name`, else nullopt.
std::optional<ServerAddress> parse_switch_master(const Reply& message,
                                                 std::string_view master_name);

}  // namespace distkit::detail
