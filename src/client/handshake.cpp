#include "client/handshake.hpp"

#include "client/refusal.hpp"
#include "client/request.hpp"
#include "client/script.hpp"

namespace distkit::detail {
namespace {

void append(std::string& out, Request request) {
  out += request.head();
  out += request.tail();
}

}  // namespace

Handshake::Handshake(const Credentials& credentials, std::int64_t db, bool require_master,
                     const std::vector<const Script*>& scripts)
    : db_(db) {
  if (credentials.password) {
    RequestBuilder auth("AUTH");
    if (credentials.user) auth.arg(*credentials.user);
    append(bytes_, auth.arg(*credentials.password).build());
    steps_.push_back(Step::auth);
  }
  if (db != 0) {
    append(bytes_, RequestBuilder("SELECT").arg(db).build());
    steps_.push_back(Step::select);
  }
  if (require_master) {
    append(bytes_, RequestBuilder("ROLE").build());
    steps_.push_back(Step::role);
  }
  append(bytes_, RequestBuilder("PING").build());
  steps_.push_back(Step::ping);
  for (const Script* script : scripts) {
    append(bytes_, RequestBuilder("SCRIPT").arg("LOAD").arg(script->body()).build());
    steps_.push_back(Step::script_load);
  }
}

void Handshake::restart() {
  answered_ = 0;
  worst_ = Status::ready;
  failure_.clear();
  authentication_failed_ = false;
}

void Handshake::note(Status status, std::string why) {
  // failed > relocate > retry > ready: the first reason of the worst kind wins.
  if (static_cast<int>(status) <= static_cast<int>(worst_)) return;
  worst_ = status;
  failure_ = std::move(why);
}

Handshake::Status Handshake::on_reply(const Reply& reply) {
  const Step step = steps_.at(answered_++);
  if (reply.is_error()) {
    const auto refusal = classify_refusal(reply, false);
    if (refusal == Refusal::passing) {
      note(Status::retry, reply.text);
    } else if (refusal == Refusal::relocate) {
      note(Status::relocate, reply.text);
    } else if (step == Step::script_load) {
      // A failed SCRIPT LOAD (say, an ACL user without SCRIPT) only means
      // the first EVALSHA falls back to EVAL.
    } else if (is_authentication_error(reply)) {
      authentication_failed_ = true;
      note(Status::failed, "authentication failed: " + reply.text);
    } else if (step == Step::select) {
      note(Status::failed, "SELECT " + std::to_string(db_) + " failed: " + reply.text);
    } else {
      note(Status::failed, reply.text);
    }
  } else if (step == Step::role) {
    const bool master = reply.kind == Reply::Kind::array && !reply.elements.empty() &&
                        reply.elements.front().text == "master";
    if (!master) note(Status::relocate, "the server is not a master (ROLE)");
  }
  return answered_ < steps_.size() ? Status::waiting : worst_;
}

}  // namespace distkit::detail
