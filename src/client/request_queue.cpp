#include "client/request_queue.hpp"

#include <algorithm>
#include <iterator>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

template <class Entries, class Expired, class Fail>
void erase_expired(Entries& entries, Expired expired, Fail fail) {
  for (auto it = entries.begin(); it != entries.end();) {
    if (!expired(*it)) {
      ++it;
      continue;
    }
    fail(*it);
    it = entries.erase(it);
  }
}

}  // namespace

void RequestQueue::finish(Entry& entry, boost::system::error_code error, Reply reply,
                          std::vector<Finished>& finished) {
  if (!entry.done) return;
  finished.push_back({std::move(entry.done), error, std::move(reply)});
  entry.done = {};
}

void RequestQueue::push(Request request, ReplyCallback done, clock::time_point deadline) {
  queued_.push_back({std::move(request), std::move(done), deadline});
}

std::size_t RequestQueue::take_writable(std::string& out) {
  if (!refused_.empty()) return 0;
  const std::size_t taken = queued_.size();
  for (Entry& entry : queued_) {
    out += entry.request.head();
    out += entry.request.tail();
    in_flight_.push_back(std::move(entry));
  }
  queued_.clear();
  return taken;
}

std::optional<Refusal> RequestQueue::on_reply(Reply reply, std::vector<Finished>& finished) {
  if (in_flight_.empty()) throw Error(Errc::connection, "Redis sent a reply nobody asked for");
  Entry entry = std::move(in_flight_.front());
  in_flight_.pop_front();
  const bool is_script = entry.request.script() != nullptr && !entry.request.uses_eval();
  const auto refusal = classify_refusal(reply, is_script);
  if (refusal) {
    // A request nobody waits for any more is simply dropped: it never ran.
    if (!entry.done) return refusal;
    if (*refusal == Refusal::noscript) entry.request.switch_to_eval();
    refused_.push_back(std::move(entry));
    return refusal;
  }
  // This request ran, so the refused ones before it can no longer run in
  // issue order.
  for (Entry& earlier : refused_) finish(earlier, make_error_code(Errc::connection), {}, finished);
  refused_.clear();
  finish(entry, {}, std::move(reply), finished);
  return std::nullopt;
}

void RequestQueue::resume_refused() {
  queued_.insert(queued_.begin(), std::make_move_iterator(refused_.begin()),
                 std::make_move_iterator(refused_.end()));
  refused_.clear();
}

void RequestQueue::fail_in_flight(boost::system::error_code error,
                                  std::vector<Finished>& finished) {
  for (Entry& entry : in_flight_) finish(entry, error, {}, finished);
  in_flight_.clear();
}

void RequestQueue::fail_all(boost::system::error_code error, std::vector<Finished>& finished) {
  fail_in_flight(error, finished);
  for (auto* entries : {&refused_, &queued_}) {
    for (Entry& entry : *entries) finish(entry, error, {}, finished);
    entries->clear();
  }
}

void RequestQueue::expire(clock::time_point now, boost::system::error_code unsent_error,
                          std::vector<Finished>& finished) {
  for (Entry& entry : in_flight_) {
    if (entry.deadline <= now) finish(entry, make_error_code(Errc::timeout), {}, finished);
  }
  // Unsent requests are dropped outright: Redis never ran them.
  const auto expired = [now](const Entry& entry) { return entry.deadline <= now; };
  const auto fail = [&](Entry& entry) { finish(entry, unsent_error, {}, finished); };
  erase_expired(refused_, expired, fail);
  erase_expired(queued_, expired, fail);
}

std::optional<RequestQueue::clock::time_point> RequestQueue::next_deadline() const {
  std::optional<clock::time_point> earliest;
  for (const auto* entries : {&in_flight_, &refused_, &queued_}) {
    for (const Entry& entry : *entries) {
      if (entry.done && (!earliest || entry.deadline < *earliest)) earliest = entry.deadline;
    }
  }
  return earliest;
}

}  // namespace distkit::detail
