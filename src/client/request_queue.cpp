#include "client/request_queue.hpp"

#include <algorithm>
#include <bitset>
#include <iterator>
#include <string_view>
#include <utility>

#include "client/cluster_slot.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

// Past this many entries a drained vector gives its memory back.
constexpr std::size_t kept_entries = 1024;

// Empties `entries`, releasing a capacity grown by a burst.
template <class Entries>
void clear_releasing(Entries& entries) {
  if (entries.capacity() > kept_entries) {
    Entries().swap(entries);
  } else {
    entries.clear();
  }
}

// Removes the entries from index `first` on that `matches`, after `take`
// took each, keeping the others in order.
template <class Entries, class Matches, class Take>
void erase_matching(Entries& entries, Matches matches, Take take, std::size_t first = 0) {
  auto kept = entries.begin() + static_cast<std::ptrdiff_t>(first);
  for (auto it = kept; it != entries.end(); ++it) {
    if (matches(*it)) {
      take(*it);
      continue;
    }
    if (kept != it) *kept = std::move(*it);
    ++kept;
  }
  entries.erase(kept, entries.end());
  if (entries.empty()) clear_releasing(entries);
}

// ASKING, in RESP.
constexpr std::string_view asking_command = "*1\r\n$6\r\nASKING\r\n";

bool is_redirection(const Reply& reply) noexcept {
  return reply.is_error() && (reply.is_error_code("MOVED") || reply.is_error_code("ASK"));
}

}  // namespace

void RequestQueue::finish(Entry& entry, boost::system::error_code error, Reply reply,
                          std::vector<Finished>& finished) {
  if (std::exchange(entry.fence, false)) {
    --fences_;
    error = {};  // a fence reports only that it passed
  }
  if (!entry.done) return;
  finished.push_back({std::move(entry.done), error, std::move(reply)});
  entry.done = {};
}

void RequestQueue::push(Request request, ReplyCallback done, clock::time_point deadline,
                        int redirects, bool asking, std::int32_t slot) {
  queued_.push_back({std::move(request), std::move(done), deadline, redirects, slot, asking});
}

void RequestQueue::push_fence(std::int32_t slot, ReplyCallback passed) {
  queued_.push_back({{}, std::move(passed), clock::time_point::max(), 0, slot, false, false, true});
  ++fences_;
}

void RequestQueue::pass_fences(std::vector<Finished>& finished) {
  // One walk in queue order (refused, in flight, queued), noting the slots
  // of the requests seen: a fence whose slot has none before it passes.
  std::bitset<cluster_slot_count> seen;
  const auto passes = [&](const Entry& entry) {
    if (!entry.fence) {
      if (entry.slot >= 0) seen.set(static_cast<std::size_t>(entry.slot));
      return false;
    }
    return !seen.test(static_cast<std::size_t>(entry.slot));
  };
  const auto pass = [&](Entry& fence) { finish(fence, {}, {}, finished); };
  erase_matching(refused_, passes, pass);
  // In flight, only the entries from answered_ on count; the ones before
  // are answered and moved from.
  erase_matching(in_flight_, passes, pass, answered_);
  if (in_flight() == 0) clear_in_flight();
  erase_matching(queued_, passes, pass);
  // A fence left at the front of the requests in flight waits for refused
  // requests of its slot: it keeps its place behind them, so that the
  // oldest in flight is always a request.
  while (in_flight() > 0 && oldest_in_flight().fence) {
    refused_.push_back(std::move(oldest_in_flight()));
    pop_oldest_in_flight();
  }
}

std::size_t RequestQueue::take_writable(std::string& out) {
  if (!refused_.empty()) return 0;
  std::size_t taken = 0;
  for (Entry& entry : queued_) {
    // A fence is not sent: it follows the requests written before it.
    taken += entry.fence ? 0 : 1;
    if (entry.asking) {
      out += asking_command;
      entry.asking_sent = true;
    }
    out += entry.request.head();
    out += entry.request.tail();
    in_flight_.push_back(std::move(entry));
  }
  clear_releasing(queued_);
  return taken;
}

std::optional<Refusal> RequestQueue::on_reply(Reply reply, std::vector<Finished>& finished,
                                              std::vector<Redirected>* redirected) {
  // Settled fences are never the oldest in flight (pass_fences), so this
  // is a request.
  if (in_flight() == 0) throw Error(Errc::connection, "Redis sent a reply nobody asked for");
  if (std::exchange(oldest_in_flight().asking_sent, false)) return std::nullopt;  // ASKING's OK
  const auto refusal = answer_oldest(std::move(reply), finished, redirected);
  settle_fences(finished);
  return refusal;
}

std::optional<Refusal> RequestQueue::answer_oldest(Reply&& reply, std::vector<Finished>& finished,
                                                   std::vector<Redirected>* redirected) {
  Entry entry = std::move(oldest_in_flight());
  pop_oldest_in_flight();
  if (redirected != nullptr && is_redirection(reply)) {
    if (!entry.done) return std::nullopt;
    // Sent on now, it would overtake a refused request of its slot, which
    // is retried here first: it joins them instead, to be sent here again
    // after them (and redirected again).
    const auto same_slot = [&](const Entry& refused) {
      return !refused.fence && refused.slot == entry.slot;
    };
    if (entry.slot != Request::no_keys &&
        std::any_of(refused_.begin(), refused_.end(), same_slot)) {
      refused_.push_back(std::move(entry));
      return std::nullopt;
    }
    redirected->push_back({std::move(entry.request), std::move(entry.done), entry.deadline,
                           entry.redirects, std::move(reply)});
    return std::nullopt;
  }
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
  clear_releasing(refused_);
  if (entry.request.script() != nullptr) ++scripts_answered_;
  finish(entry, {}, std::move(reply), finished);
  return std::nullopt;
}

void RequestQueue::pop_oldest_in_flight() {
  ++answered_;
  if (answered_ == in_flight_.size()) return clear_in_flight();
  if (answered_ * 2 >= in_flight_.size()) {
    in_flight_.erase(in_flight_.begin(),
                     in_flight_.begin() + static_cast<std::ptrdiff_t>(answered_));
    answered_ = 0;
  }
}

void RequestQueue::clear_in_flight() {
  clear_releasing(in_flight_);
  answered_ = 0;
}

void RequestQueue::resume_refused() {
  queued_.insert(queued_.begin(), std::make_move_iterator(refused_.begin()),
                 std::make_move_iterator(refused_.end()));
  clear_releasing(refused_);
}

void RequestQueue::fail_in_flight(boost::system::error_code error,
                                  std::vector<Finished>& finished) {
  for (auto it = in_flight_.begin() + static_cast<std::ptrdiff_t>(answered_);
       it != in_flight_.end(); ++it) {
    // Fences keep waiting behind refused requests of their slot, if any.
    if (it->fence) {
      refused_.push_back(std::move(*it));
    } else {
      finish(*it, error, {}, finished);
    }
  }
  clear_in_flight();
  settle_fences(finished);
}

void RequestQueue::fail_all(boost::system::error_code error, std::vector<Finished>& finished) {
  fail_in_flight(error, finished);
  for (auto* entries : {&refused_, &queued_}) {
    for (Entry& entry : *entries) finish(entry, error, {}, finished);
    clear_releasing(*entries);
  }
}

void RequestQueue::expire(clock::time_point now, boost::system::error_code unsent_error,
                          std::vector<Finished>& finished) {
  for (auto it = in_flight_.begin() + static_cast<std::ptrdiff_t>(answered_);
       it != in_flight_.end(); ++it) {
    if (it->deadline <= now) finish(*it, make_error_code(Errc::timeout), {}, finished);
  }
  // Unsent requests are dropped outright: Redis never ran them.
  const auto expired = [now](const Entry& entry) { return entry.deadline <= now; };
  const auto fail = [&](Entry& entry) { finish(entry, unsent_error, {}, finished); };
  erase_matching(refused_, expired, fail);
  erase_matching(queued_, expired, fail);
  settle_fences(finished);
}

std::optional<RequestQueue::clock::time_point> RequestQueue::next_deadline() const {
  std::optional<clock::time_point> earliest;
  // Answered in-flight entries are moved from, so they have no callback.
  for (const auto* entries : {&in_flight_, &refused_, &queued_}) {
    for (const Entry& entry : *entries) {
      if (entry.done && !entry.fence && (!earliest || entry.deadline < *earliest))
        earliest = entry.deadline;
    }
  }
  return earliest;
}

}  // namespace distkit::detail
