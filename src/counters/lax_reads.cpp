// LaxCounter's reads: the first touch of a key (one HMGET shared by
// concurrent first touches) and the refresh of stale values (one HMGET
// shared by every stale read waiting for it).
#include <boost/asio/post.hpp>

#include "counters/lax_counter_impl.hpp"
#include "counters/replies.hpp"
#include "counters/shard_split.hpp"

namespace distkit {

using boost::system::error_code;
using detail::Done;
using detail::LaxSlot;
using detail::Outcome;
using detail::Reply;

void LaxCounter::Impl::ensure_warm(const std::vector<LaxSlot*>& slots,
                                   Callback<detail::Done> done) {
  auto join = std::make_shared<Join>(std::move(done));
  std::vector<LaxSlot*> to_fetch;
  {
    std::lock_guard lock(fetch_mutex_);
    for (LaxSlot* slot : slots) {
      // A retiring slot (on its way to reclaim) still holds the key's
      // value; the caller's pin keeps it, and it is ready again.
      std::uint8_t state = LaxSlot::retiring;
      if (slot->state.compare_exchange_strong(state, LaxSlot::ready, std::memory_order_acq_rel) ||
          state == LaxSlot::ready) {
        continue;
      }
      join->remaining.fetch_add(1, std::memory_order_relaxed);
      auto& waiters = fetch_waiters_[slot];
      if (waiters.empty()) to_fetch.push_back(slot);  // nobody is fetching it yet
      waiters.push_back(join);
      slot->state.store(LaxSlot::fetching, std::memory_order_relaxed);
    }
  }
  if (!to_fetch.empty()) fetch(std::move(to_fetch));
  join->arrive({});
}

// First touch: no delta of these keys can be pending yet, so this needs no
// lane.
void LaxCounter::Impl::fetch(std::vector<LaxSlot*> slots) {
  read(slots, [self = shared_from_this(), slots](Outcome<std::vector<std::int64_t>> outcome) {
    const std::int64_t now = lax_now_ns();
    std::vector<std::shared_ptr<Join>> waiters;
    {
      std::lock_guard lock(self->fetch_mutex_);
      for (std::size_t i = 0; i < slots.size(); ++i) {
        LaxSlot& slot = *slots[i];
        if (!outcome.error) {
          slot.base.store(outcome.value[i], std::memory_order_relaxed);
          slot.view.store(outcome.value[i], std::memory_order_relaxed);
          slot.fetched_at.store(now, std::memory_order_relaxed);
        }
        slot.state.store(outcome.error ? LaxSlot::cold : LaxSlot::ready, std::memory_order_release);
        self->flusher_->touch(slot);
        auto node = self->fetch_waiters_.extract(slots[i]);
        waiters.insert(waiters.end(), node.mapped().begin(), node.mapped().end());
      }
    }
    const Outcome<detail::Done> result{outcome.error, outcome.message, {}};
    for (auto& waiter : waiters) waiter->arrive(result);
  });
}

void LaxCounter::Impl::read_values(std::vector<LaxSlot*> slots,
                                   Callback<std::vector<std::int64_t>> done) {
  ensure_warm(slots, [self = shared_from_this(), slots,
                      done = std::move(done)](Outcome<detail::Done> warm) mutable {
    if (warm.error) return done({warm.error, std::move(warm.message), {}});
    std::vector<LaxSlot*> stale;
    const std::int64_t oldest =
        lax_now_ns() - std::chrono::nanoseconds(self->flusher_->allowed_lag()).count();
    for (LaxSlot* slot : slots) {
      if (slot->fetched_at.load(std::memory_order_acquire) < oldest) stale.push_back(slot);
    }
    if (stale.empty()) return done({{}, {}, views_of(slots)});
    boost::asio::post(self->executor(), [self, stale = std::move(stale), slots = std::move(slots),
                                         done = std::move(done)]() mutable {
      self->join_refresh(std::move(stale), std::move(slots), std::move(done));
    });
  });
}

// Strand only. Joins the refresh waiting in the lane, or queues a new one:
// stale reads that arrive while one refresh is in flight share the next.
void LaxCounter::Impl::join_refresh(std::vector<LaxSlot*> stale, std::vector<LaxSlot*> slots,
                                    Callback<std::vector<std::int64_t>> done) {
  if (flusher_->stopped()) return done({make_error_code(Errc::closed), {}, {}});
  // A refresh that ended since the read looked may have made them fresh.
  const std::int64_t oldest =
      lax_now_ns() - std::chrono::nanoseconds(flusher_->allowed_lag()).count();
  std::erase_if(stale, [oldest](LaxSlot* slot) {
    return slot->fetched_at.load(std::memory_order_acquire) >= oldest;
  });
  if (stale.empty()) return done({{}, {}, views_of(slots)});
  const bool first = !open_refresh_;
  if (first) {
    open_refresh_ = std::make_shared<Refresh>();
    open_refresh_->opened_at = lax_now_ns();
  }
  auto refresh = open_refresh_;
  for (LaxSlot* slot : stale) {
    if (refresh->included.insert(slot).second) refresh->stale.push_back(slot);
  }
  refresh->readers.emplace_back(std::move(slots), std::move(done));
  if (!first) return;
  // May start at once (an idle lane), so the batch is complete first.
  flusher_->enqueue([self = shared_from_this(), refresh] { self->start_refresh(refresh); },
                    [self = shared_from_this(), refresh](error_code error) {
                      if (self->open_refresh_ == refresh) self->open_refresh_.reset();
                      for (auto& reader : refresh->readers) reader.second({error, {}, {}});
                    },
                    clock::now() + command_timeout());
}

void LaxCounter::Impl::start_refresh(const std::shared_ptr<Refresh>& refresh) {
  if (open_refresh_ == refresh) open_refresh_.reset();
  // Keys an earlier refresh read after this one opened need no second read.
  std::erase_if(refresh->stale, [opened_at = refresh->opened_at](LaxSlot* slot) {
    return slot->fetched_at.load(std::memory_order_acquire) >= opened_at;
  });
  if (refresh->stale.empty()) {
    for (auto& [slots, done] : refresh->readers) done({{}, {}, views_of(slots)});
    return flusher_->job_finished();
  }
  read(refresh->stale,
       [self = shared_from_this(), refresh](Outcome<std::vector<std::int64_t>> outcome) {
         if (!outcome.error) {
           const auto& values = outcome.value;
           const std::int64_t now = lax_now_ns();
           for (std::size_t i = 0; i < refresh->stale.size(); ++i) {
             LaxSlot& slot = *refresh->stale[i];
             detail::LaxFlusher::shift_view(
                 slot, detail::int128{values[i]} - slot.base.load(std::memory_order_relaxed));
             slot.base.store(values[i], std::memory_order_relaxed);
             slot.fetched_at.store(now, std::memory_order_release);
             self->flusher_->touch(slot);
           }
         }
         for (auto& [slots, done] : refresh->readers) {
           if (outcome.error) {
             done({outcome.error, outcome.message, {}});
           } else {
             done({{}, {}, views_of(slots)});
           }
         }
         self->flusher_->job_finished();
       });
}

void LaxCounter::Impl::read(const std::vector<LaxSlot*>& slots,
                            Callback<std::vector<std::int64_t>> done) {
  const auto parts = detail::split_by_shard(
      layout_, slots.size(), [&](std::size_t i) -> const std::string& { return *slots[i]->key; });
  auto callbacks = detail::gather<std::int64_t>(parts, slots.size(), std::move(done));
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::vector<LaxSlot*> part;
    part.reserve(parts[i].positions.size());
    for (std::size_t position : parts[i].positions) part.push_back(slots[position]);
    const std::string& hash = layout_.hash(parts[i].shard);
    detail::RequestBuilder builder("HMGET");
    builder.key(hash);
    for (LaxSlot* slot : part) builder.arg(*slot->key);
    flusher_->execute(builder.build(),
                      [self = shared_from_this(), &hash, part = std::move(part),
                       done = std::move(callbacks[i])](error_code error, Reply reply) mutable {
                        Outcome<std::vector<std::int64_t>> outcome{error, {}, {}};
                        if (!error) {
                          try {
                            outcome.value = self->read_reply(hash, part, reply);
                          } catch (const Error& e) {
                            outcome = Outcome<std::vector<std::int64_t>>::failure(e);
                          }
                        }
                        done(std::move(outcome));
                      });
  }
}

// The values of an HMGET reply, in the order of `slots`; throws Error.
std::vector<std::int64_t> LaxCounter::Impl::read_reply(const std::string& hash,
                                                       const std::vector<LaxSlot*>& slots,
                                                       const Reply& reply) const {
  detail::throw_if_error(reply, hash, {});
  const auto& elements = detail::array_of(reply, slots.size());
  std::vector<std::int64_t> values;
  values.reserve(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    values.push_back(detail::field_value(elements[i], hash, RedisKey(*slots[i]->key)));
  }
  return values;
}

std::vector<std::int64_t> LaxCounter::Impl::views_of(const std::vector<LaxSlot*>& slots) {
  std::vector<std::int64_t> values;
  values.reserve(slots.size());
  for (LaxSlot* slot : slots) values.push_back(slot->view.load(std::memory_order_acquire));
  return values;
}

}  // namespace distkit
