// LaxCounter's immediate operations: set, set_if, set_all(_if), del and
// clear act on Redis at once and override this process's pending delta.
// Each runs as a lane job, so no flush of this instance is in flight while
// it does: Redis then holds everything flushed and nothing else pending.
#include <boost/asio/post.hpp>
#include <limits>

#include "counters/lax_counter_impl.hpp"
#include "counters/lax_hash_layout.hpp"
#include "counters/replies.hpp"
#include "counters/scripts.hpp"

namespace distkit {

using boost::system::error_code;
using detail::int128;
using detail::LaxSlot;
using detail::Outcome;
using detail::Reply;

namespace {

std::vector<std::int64_t> values_of(const std::vector<UpdateResult>& results) {
  std::vector<std::int64_t> values;
  values.reserve(results.size());
  for (const UpdateResult& result : results) values.push_back(result.value);
  return values;
}

}  // namespace

void LaxCounter::Impl::set_values(std::vector<ConditionalUpdate> updates,
                                  Callback<std::vector<std::int64_t>> done) {
  override(Mode::overwrite, std::move(updates),
           [done = std::move(done)](Outcome<std::vector<UpdateResult>> outcome) mutable {
             if (outcome.error) return done({outcome.error, std::move(outcome.message), {}});
             done({{}, {}, values_of(outcome.value)});
           });
}

void LaxCounter::Impl::del(const RedisKey& key, Callback<std::int64_t> done) {
  override(Mode::del, {{key, CounterComparator::nil(), 0}},
           [done = std::move(done)](Outcome<std::vector<UpdateResult>> outcome) mutable {
             if (outcome.error) return done({outcome.error, std::move(outcome.message), {}});
             done({{}, {}, outcome.value.front().previous});
           });
}

void LaxCounter::Impl::override(Mode mode, std::vector<ConditionalUpdate> updates,
                                Callback<std::vector<UpdateResult>> done) {
  if (updates.empty()) return done({{}, {}, {}});
  boost::asio::post(executor(), [self = shared_from_this(), mode, updates = std::move(updates),
                                 done = std::move(done)]() mutable {
    self->enqueue_job<std::vector<UpdateResult>>(
        std::move(done), [self, mode, updates = std::move(updates)](
                             Callback<std::vector<UpdateResult>> started) mutable {
          self->start_override(mode, std::move(updates), std::move(started));
        });
  });
}

void LaxCounter::Impl::clear(Callback<detail::Done> done) {
  boost::asio::post(executor(), [self = shared_from_this(), done = std::move(done)]() mutable {
    self->enqueue_job<detail::Done>(std::move(done), [self](Callback<detail::Done> started) {
      self->start_clear(std::move(started));
    });
  });
}

void LaxCounter::Impl::start_override(Mode mode, std::vector<ConditionalUpdate> updates,
                                      Callback<std::vector<UpdateResult>> done) {
  Targets targets;
  for (const auto& update : updates) {
    auto [it, inserted] = targets.try_emplace(update.key.str());
    if (!inserted) continue;
    LaxSlot* slot = flusher_->slots().find_uncached(update.key.str());
    if (slot && slot->state.load(std::memory_order_acquire) == LaxSlot::ready) {
      it->second.slot = slot;
      it->second.taken = flusher_->pending_of(*slot);
      flusher_->hold(*slot, it->second.taken);
    }
  }
  auto request = mode == Mode::overwrite ? overwrite_request(updates)
                                         : override_request(mode, updates, targets);
  flusher_->execute(
      std::move(request),
      [self = shared_from_this(), mode, updates = std::move(updates), targets = std::move(targets),
       done = std::move(done)](error_code error, Reply reply) mutable {
        Outcome<std::vector<UpdateResult>> outcome{error, {}, {}};
        if (!error) {
          try {
            outcome.value = mode == Mode::overwrite
                                ? self->settle_overwrite(updates, targets, reply)
                                : self->settle_override(mode, updates, targets, reply);
          } catch (const Error& e) {
            outcome = Outcome<std::vector<UpdateResult>>::failure(e);
          }
        }
        if (outcome.error) self->release(targets);
        done(std::move(outcome));
        self->flusher_->job_finished();
      });
}

// set/set_all: one plain HSET does it exactly (the last entry of a key
// wins, as in the call's order); nothing before is read or reported.
detail::Request LaxCounter::Impl::overwrite_request(
    const std::vector<ConditionalUpdate>& updates) const {
  detail::RequestBuilder builder("HSET");
  builder.key(hash_);
  for (const auto& update : updates) builder.arg(update.key.str()).arg(update.count);
  return builder.build();
}

// set_if/set_all_if/del report the value before with the pending delta
// and compare against it, atomically with the write: a lean script.
detail::Request LaxCounter::Impl::override_request(Mode mode,
                                                   const std::vector<ConditionalUpdate>& updates,
                                                   Targets& targets) const {
  detail::RequestBuilder builder(detail::lax_override_script(), 1);
  builder.arg(hash_).arg(mode == Mode::del ? "del" : "set");
  for (const auto& update : updates) {
    const int128 taken = targets[update.key.str()].taken;
    builder.arg(update.key.str());
    if (mode != Mode::del) {
      // Redis holds the local view minus the pending delta taken, so that
      // is what the operand is compared against.
      builder.arg(detail::lua_operator(update.comparator.kind()))
          .arg(detail::to_decimal(update.comparator.operand() - taken))
          .arg(update.comparator.operand())
          .arg(update.count);
    }
    // The value before, with the pending delta, must be an int64 where it
    // is reported: checked before anything is written, so an overflow
    // changes nothing.
    builder.arg(detail::to_decimal(int128{std::numeric_limits<std::int64_t>::min()} - taken))
        .arg(detail::to_decimal(int128{std::numeric_limits<std::int64_t>::max()} - taken));
  }
  return builder.build();
}

std::vector<UpdateResult> LaxCounter::Impl::settle_overwrite(
    const std::vector<ConditionalUpdate>& updates, Targets& targets, const Reply& reply) {
  std::vector<RedisKey> keys;
  keys.reserve(updates.size());
  for (const auto& update : updates) keys.push_back(update.key);
  detail::throw_if_error(reply, hash_, keys);
  std::vector<UpdateResult> results;
  results.reserve(updates.size());
  for (const auto& update : updates) {
    Target& target = targets[update.key.str()];
    target.overridden = true;
    target.final_value = update.count;
    results.push_back({update.count, update.count, true});
  }
  apply(targets);
  return results;
}

std::vector<UpdateResult> LaxCounter::Impl::settle_override(
    Mode mode, const std::vector<ConditionalUpdate>& updates, Targets& targets,
    const Reply& reply) {
  std::vector<RedisKey> keys;
  keys.reserve(updates.size());
  for (const auto& update : updates) keys.push_back(update.key);
  detail::throw_if_error(reply, hash_, keys);
  const auto& elements = detail::array_of(reply, 3 * updates.size());
  std::vector<UpdateResult> results;
  results.reserve(updates.size());
  for (std::size_t i = 0; i < updates.size(); ++i) {
    const std::int64_t raw = detail::field_value(elements[3 * i], hash_, keys[i]);
    const bool applied = detail::flag(elements[3 * i + 1]);
    const bool earlier = detail::flag(elements[3 * i + 2]);
    Target& target = targets[updates[i].key.str()];
    // The script checked that this fits (low/high).
    const std::int64_t previous =
        earlier ? raw : detail::LaxFlusher::saturate(int128{raw} + target.taken);
    if (!earlier) target.final_value = raw;
    if (applied) {
      target.overridden = true;
      target.final_value = mode == Mode::del ? 0 : updates[i].count;
    }
    const std::int64_t value = applied && mode != Mode::del ? updates[i].count : previous;
    results.push_back({value, previous, applied});
  }
  apply(targets);
  return results;
}

// Moves the slots of a finished override to what Redis holds now.
void LaxCounter::Impl::apply(Targets& targets) {
  const std::int64_t now = lax_now_ns();
  for (auto& [key, target] : targets) {
    if (!target.slot) continue;
    LaxSlot& slot = *target.slot;
    // An override consumes the delta it took; otherwise that delta is
    // pending again and goes out with the next flush.
    detail::LaxFlusher::shift_view(slot, int128{target.final_value} -
                                             slot.base.load(std::memory_order_relaxed) -
                                             (target.overridden ? target.taken : 0));
    slot.base.store(target.final_value, std::memory_order_relaxed);
    flusher_->unhold(slot, target.taken);
    slot.fetched_at.store(now, std::memory_order_release);
    flusher_->touch(slot);
    if (!target.overridden && target.taken != 0) flusher_->mark_dirty(slot);
  }
}

// An immediate operation failed: the deltas it took are pending again.
void LaxCounter::Impl::release(Targets& targets) {
  for (auto& [key, target] : targets) {
    if (!target.slot || target.taken == 0) continue;
    flusher_->unhold(*target.slot, target.taken);
    flusher_->mark_dirty(*target.slot);
  }
}

// Clear's walk over the slots: each ready slot and the delta taken from it.
struct LaxCounter::Impl::ClearWalk {
  explicit ClearWalk(Callback<detail::Done> callback) : done(std::move(callback)) {}
  std::vector<std::pair<LaxSlot*, int128>> targets;
  std::vector<LaxSlot*> shard;  // the slots of the shard being walked
  std::size_t next_shard = 0;
  std::size_t position = 0;  // in `shard`, or in `targets` once sent
  Callback<detail::Done> done;
};

// Deletes the hash, this instance's flush record (other instances' records
// expire on their own), the set-aside list and the flush-record hash of
// earlier versions. The walks over the slots before and after run in
// slices of clear_slice slots with a post between them, so the strand's
// other work (other counters' replies) never waits long behind them.
void LaxCounter::Impl::start_clear(Callback<detail::Done> done) {
  take_for_clear(std::make_shared<ClearWalk>(std::move(done)));
}

void LaxCounter::Impl::take_for_clear(const std::shared_ptr<ClearWalk>& walk) {
  for (std::size_t taken = 0; taken < clear_slice; ++taken) {
    if (walk->position == walk->shard.size()) {
      if (walk->next_shard == detail::LaxSlotMap::shard_count) return send_clear(walk);
      walk->shard.clear();
      walk->position = 0;
      flusher_->slots().collect(walk->next_shard++, walk->shard);
      continue;
    }
    LaxSlot& slot = *walk->shard[walk->position++];
    const auto state = slot.state.load(std::memory_order_acquire);
    if (state != LaxSlot::ready && state != LaxSlot::retiring) continue;
    const int128 taken_delta = flusher_->pending_of(slot);
    flusher_->hold(slot, taken_delta);
    walk->targets.emplace_back(&slot, taken_delta);
  }
  boost::asio::post(executor(), [self = shared_from_this(), walk] { self->take_for_clear(walk); });
}

void LaxCounter::Impl::send_clear(const std::shared_ptr<ClearWalk>& walk) {
  walk->shard = {};
  walk->position = 0;
  // UNLINK: Redis frees a large hash in the background.
  detail::RequestBuilder builder("UNLINK");
  builder.key(hash_)
      .key(record_)
      .key(detail::lax_set_aside_key(prefix_))
      .key(detail::lax_flush_record_key(prefix_));
  flusher_->execute(
      builder.build(), [self = shared_from_this(), walk](error_code error, Reply reply) mutable {
        if (!error && reply.is_error()) error = make_error_code(Errc::redis);
        Outcome<detail::Done> outcome{error, reply.is_error() ? reply.text : std::string(), {}};
        self->settle_clear(walk, std::move(outcome));
      });
}

// Applies the clear to the slots walked (or, when it failed, makes their
// taken deltas pending again), a slice at a time; then completes it.
void LaxCounter::Impl::settle_clear(const std::shared_ptr<ClearWalk>& walk,
                                    Outcome<detail::Done> outcome) {
  const std::int64_t now = lax_now_ns();
  const std::size_t end = std::min(walk->targets.size(), walk->position + clear_slice);
  for (; walk->position < end; ++walk->position) {
    auto [slot, taken] = walk->targets[walk->position];
    flusher_->unhold(*slot, taken);
    if (outcome.error) {
      if (taken != 0) flusher_->mark_dirty(*slot);
      continue;
    }
    detail::LaxFlusher::shift_view(*slot,
                                   -(int128{slot->base.load(std::memory_order_relaxed)} + taken));
    slot->base.store(0, std::memory_order_relaxed);
    slot->fetched_at.store(now, std::memory_order_release);
    flusher_->touch(*slot);
  }
  if (walk->position < walk->targets.size()) {
    boost::asio::post(executor(),
                      [self = shared_from_this(), walk, outcome = std::move(outcome)]() mutable {
                        self->settle_clear(walk, std::move(outcome));
                      });
    return;
  }
  if (outcome.error && outcome.message.empty()) outcome.message = Error(outcome.error).what();
  walk->done(std::move(outcome));
  flusher_->job_finished();
}

}  // namespace distkit
