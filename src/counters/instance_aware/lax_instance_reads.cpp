// LaxInstanceAwareCounter's reads: the first touch of a key and the refresh
// of stale pairs, both one strict get_all run as a lane job (so no flush of
// this instance is in flight and Redis holds exactly what was flushed),
// shared by every read that waits for the lane meanwhile.
#include <algorithm>

#include "counters/instance_aware/lax_instance_impl.hpp"
#include "counters/lax_counter_impl.hpp"

namespace distkit {

using boost::system::error_code;
using detail::Done;
using detail::Outcome;

namespace {

InstanceCount estimate(const detail::LaxSlot& slot) {
  const std::int64_t slice = slot.view.load(std::memory_order_acquire);
  return {detail::LaxFlusher::saturate(detail::int128{slot.others.load(std::memory_order_relaxed)} +
                                       slice),
          slice};
}

std::vector<InstanceCount> estimates(const std::vector<detail::LaxSlot*>& slots) {
  std::vector<InstanceCount> pairs;
  pairs.reserve(slots.size());
  for (const detail::LaxSlot* slot : slots) pairs.push_back(estimate(*slot));
  return pairs;
}

}  // namespace

std::vector<detail::LaxSlot*> LaxInstanceAwareCounter::Impl::slots_of(
    std::span<const RedisKey> keys) {
  std::vector<LaxSlot*> slots;
  slots.reserve(keys.size());
  for (const RedisKey& key : keys) slots.push_back(flusher_->slots().find_or_create(key.str()));
  return slots;
}

bool LaxInstanceAwareCounter::Impl::fresh(const std::vector<LaxSlot*>& slots) const {
  const std::int64_t oldest =
      lax_now_ns() - std::chrono::nanoseconds(flusher_->allowed_lag()).count();
  return std::all_of(slots.begin(), slots.end(), [oldest](const LaxSlot* slot) {
    return slot->state.load(std::memory_order_acquire) == LaxSlot::ready &&
           slot->fetched_at.load(std::memory_order_acquire) >= oldest;
  });
}

void LaxInstanceAwareCounter::Impl::read(std::span<const RedisKey> keys,
                                         Callback<std::vector<InstanceCount>> done) {
  std::vector<LaxSlot*> slots = slots_of(keys);
  if (fresh(slots)) return done({{}, {}, estimates(slots)});
  auto refreshed = [slots, done = std::move(done)](Outcome<Done> outcome) mutable {
    if (outcome.error) return done({outcome.error, std::move(outcome.message), {}});
    done({{}, {}, estimates(slots)});
  };
  boost::asio::post(executor(), [self = shared_from_this(), slots = std::move(slots),
                                 refreshed = std::move(refreshed)]() mutable {
    self->join_refresh(std::move(slots), std::move(refreshed));
  });
}

void LaxInstanceAwareCounter::Impl::warm(std::vector<LaxSlot*> slots, Callback<Done> done) {
  if (std::all_of(slots.begin(), slots.end(), [](const LaxSlot* slot) {
        return slot->state.load(std::memory_order_acquire) == LaxSlot::ready;
      })) {
    return done({});
  }
  boost::asio::post(executor(), [self = shared_from_this(), slots = std::move(slots),
                                 done = std::move(done)]() mutable {
    self->join_refresh(std::move(slots), std::move(done));
  });
}

// Strand only. Joins the refresh waiting in the lane, or queues a new one.
void LaxInstanceAwareCounter::Impl::join_refresh(std::vector<LaxSlot*> slots, Callback<Done> done) {
  if (flusher_->stopped()) {
    return done({make_error_code(Errc::closed), lane_message(make_error_code(Errc::closed)), {}});
  }
  const bool first = !open_refresh_;
  if (first) open_refresh_ = std::make_shared<Refresh>();
  auto refresh = open_refresh_;
  for (LaxSlot* slot : slots) {
    if (refresh->included.insert(slot).second) refresh->slots.push_back(slot);
  }
  refresh->readers.push_back(std::move(done));
  if (!first) return;
  // May start at once (an idle lane), so the batch is complete first.
  flusher_->enqueue([self = shared_from_this(), refresh] { self->start_refresh(refresh); },
                    [self = shared_from_this(), refresh](error_code error) {
                      if (self->open_refresh_ == refresh) self->open_refresh_.reset();
                      const std::string message = self->lane_message(error);
                      for (auto& reader : refresh->readers) reader({error, message, {}});
                    },
                    clock::now() + command_timeout());
}

void LaxInstanceAwareCounter::Impl::start_refresh(const std::shared_ptr<Refresh>& refresh) {
  if (open_refresh_ == refresh) open_refresh_.reset();
  detail::instance_aware::Call call;
  call.entries.reserve(refresh->slots.size());
  for (const LaxSlot* slot : refresh->slots) {
    call.entries.push_back(
        {detail::instance_aware::Mode::get, RedisKey(*slot->key), CounterComparator::nil(), 0});
  }
  detail::instance_aware::StrictAccess::run(
      strict_, std::move(call), [self = shared_from_this(), refresh](Outcome<Results> outcome) {
        if (!outcome.error && !self->flusher_->stopped()) {
          for (std::size_t i = 0; i < outcome.value.size(); ++i)
            self->settle_slot(*refresh->slots[i], outcome.value[i].value);
        }
        for (auto& reader : refresh->readers) reader({outcome.error, outcome.message, {}});
        self->flusher_->job_finished();
      });
}

void LaxInstanceAwareCounter::Impl::settle_key(std::string_view key, InstanceCount after) {
  if (LaxSlot* slot = flusher_->slots().find(key)) settle_slot(*slot, after);
}

void LaxInstanceAwareCounter::Impl::settle_all(bool keep_others) {
  flusher_->slots().for_each([&](LaxSlot& slot) {
    if (slot.state.load(std::memory_order_acquire) == LaxSlot::ready) {
      settle_slot(slot, {keep_others ? slot.others.load(std::memory_order_relaxed) : 0, 0});
    }
    return true;
  });
}

// view = base + pending here (no flush in flight): moving view by the change
// of base keeps the pending delta, however many increments race with this.
void LaxInstanceAwareCounter::Impl::settle_slot(LaxSlot& slot, InstanceCount after) {
  detail::LaxFlusher::shift_view(
      slot, int128{after.instance} - slot.base.load(std::memory_order_relaxed));
  slot.base.store(after.instance, std::memory_order_relaxed);
  slot.others.store(detail::LaxFlusher::saturate(int128{after.cumulative} - after.instance),
                    std::memory_order_relaxed);
  slot.fetched_at.store(lax_now_ns(), std::memory_order_release);
  slot.state.store(LaxSlot::ready, std::memory_order_release);
}

}  // namespace distkit
