// Which Redis error replies mean "refused without running the command"
// (sans-IO).
#pragma once

#include <optional>

#include "client/reply.hpp"

namespace distkit::detail {

// What cures a refusal. Redis refused the command before running any of
// it, so sending it again cannot apply it twice.
enum class Refusal {
  // NOSCRIPT: the script cache is empty (SCRIPT FLUSH); re-send as EVAL.
  noscript,
  // LOADING, BUSY, TRYAGAIN, CLUSTERDOWN: a passing state of this server;
  // re-send after a short wait.
  passing,
  // READONLY, MASTERDOWN: this server is not (or no longer) a usable
  // master; reconnect, re-resolving the master where Sentinel names it.
  relocate,
};

// The refusal `reply` reports, or nullopt when it is a reply (or an error
// that a retry cannot cure). `is_script` says whether the request was an
// EVALSHA (only those are cured by EVAL after NOSCRIPT).
std::optional<Refusal> classify_refusal(const Reply& reply, bool is_script) noexcept;

// For the handshake, which only sends AUTH, SELECT, ROLE, PING and SCRIPT
// LOAD: an error reply saying the credentials were rejected (WRONGPASS,
// NOPERM, NOAUTH, or an AUTH failure in older Redis wording).
bool is_authentication_error(const Reply& reply) noexcept;

}  // namespace distkit::detail
