// The commands that open every connection, and the judgement of their
// replies (sans-IO).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "client/reply.hpp"
#include "client/url.hpp"

namespace distkit::detail {

class Script;

// Builds the handshake: AUTH (with credentials), SELECT (db != 0), ROLE
// (when the server must be a master, as Sentinel said), PING (which Redis
// refuses with LOADING until its dataset is loaded), and SCRIPT LOAD for
// each script the client used before, so that a restarted or new server
// answers EVALSHA without NOSCRIPT. All are sent in one write; feed every
// reply to on_reply() in order.
class Handshake {
 public:
  enum class Status {
    waiting,   // more replies to come
    ready,     // the connection can carry commands
    retry,     // a passing state (LOADING, BUSY, ...): send again after a wait
    relocate,  // not a master (any more): find the master again
    failed,    // refused for good (wrong credentials, bad db): see failure()
  };

  Handshake(const Credentials& credentials, std::int64_t db, bool require_master,
            const std::vector<const Script*>& scripts);

  // The encoded commands, for one write.
  const std::string& bytes() const noexcept { return bytes_; }

  // Judges the next reply; returns waiting until the last one is in, then
  // the outcome of the whole handshake.
  Status on_reply(const Reply& reply);

  // Why the handshake did not end ready ("" otherwise); never holds a
  // password.
  const std::string& failure() const noexcept { return failure_; }
  // Whether Redis rejected the credentials (WRONGPASS, NOPERM, NOAUTH).
  bool authentication_failed() const noexcept { return authentication_failed_; }

  // Starts over for another attempt on the same connection.
  void restart();

 private:
  enum class Step { auth, select, role, ping, script_load };

  void note(Status status, std::string why);

  std::vector<Step> steps_;
  std::string bytes_;
  std::int64_t db_;
  std::size_t answered_ = 0;
  Status worst_ = Status::ready;
  std::string failure_;
  bool authentication_failed_ = false;
};

}  // namespace distkit::detail
