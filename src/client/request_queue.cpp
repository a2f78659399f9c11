#include "client/request_queue.hpp"

#include <algorithm>

#include "distkit/error.hpp"

namespace distkit::detail {

void RequestQueue::finish(Entry& entry, boost::system::error_code error, Reply reply,
                          std::vector<Finished>& finished) {
  if (!entry.done) return;
  finished.push_back({std::move(entry.done), error, std::move(reply)});
  entry.done = {};
}

void RequestQueue::push(Request request, ReplyCallback done, clock::time_point deadline) {
  queued_.push_back({std::move(request), std::move(done), deadline});
}

void RequestQueue::push_front(Request request, ReplyCallback done, clock::time_point deadline) {
  queued_.push_front({std::move(request), std::move(done), deadline});
  ++resends_;  // keeps later NOSCRIPT re-sends behind the handshake
}

std::size_t RequestQueue::take_writable(std::string& out, std::size_t limit) {
  std::size_t taken = 0;
  while (taken < limit && !queued_.empty()) {
    Entry& entry = queued_.front();
    out += entry.request.head();
    out += entry.request.tail();
    in_flight_.push_back(std::move(entry));
    queued_.pop_front();
    ++taken;
  }
  resends_ -= std::min(resends_, taken);
  return taken;
}

void RequestQueue::on_reply(Reply reply, std::vector<Finished>& finished) {
  if (in_flight_.empty()) throw Error(Errc::connection, "Redis sent a reply nobody asked for");
  Entry entry = std::move(in_flight_.front());
  in_flight_.pop_front();
  if (!entry.done) return;  // timed out earlier; this is its late reply
  if (reply.is_error_code("NOSCRIPT") && entry.request.script() != nullptr &&
      !entry.request.uses_eval()) {
    entry.request.switch_to_eval();
    queued_.insert(queued_.begin() + static_cast<std::ptrdiff_t>(resends_), std::move(entry));
    ++resends_;
    return;
  }
  finish(entry, {}, std::move(reply), finished);
}

void RequestQueue::fail_in_flight(boost::system::error_code error,
                                  std::vector<Finished>& finished) {
  for (Entry& entry : in_flight_) finish(entry, error, {}, finished);
  in_flight_.clear();
}

void RequestQueue::fail_all(boost::system::error_code error, std::vector<Finished>& finished) {
  fail_in_flight(error, finished);
  for (Entry& entry : queued_) finish(entry, error, {}, finished);
  queued_.clear();
  resends_ = 0;
}

void RequestQueue::expire(clock::time_point now, boost::system::error_code queued_error,
                          std::vector<Finished>& finished) {
  for (Entry& entry : in_flight_) {
    if (entry.deadline <= now) finish(entry, make_error_code(Errc::timeout), {}, finished);
  }
  // Queued requests are dropped outright: nothing was sent for them.
  for (std::size_t i = 0; i < queued_.size();) {
    if (queued_[i].deadline > now) {
      ++i;
      continue;
    }
    finish(queued_[i], queued_error, {}, finished);
    queued_.erase(queued_.begin() + static_cast<std::ptrdiff_t>(i));
    if (i < resends_) --resends_;
  }
}

std::optional<RequestQueue::clock::time_point> RequestQueue::next_deadline() const {
  std::optional<clock::time_point> earliest;
  auto consider = [&](const std::deque<Entry>& entries) {
    for (const Entry& entry : entries) {
      if (entry.done && (!earliest || entry.deadline < *earliest)) earliest = entry.deadline;
    }
  };
  consider(in_flight_);
  consider(queued_);
  return earliest;
}

}  // namespace distkit::detail
