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
#include "counters/shard_split.hpp"

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
  const auto parts = detail::split_by_shard(
      layout_, updates.size(),
      [&](std::size_t i) -> const std::string& { return updates[i].key.str(); });
  auto callbacks =
      detail::gather<UpdateResult>(parts, updates.size(),
                                   [self = shared_from_this(), done = std::move(done)](
                                       Outcome<std::vector<UpdateResult>> outcome) mutable {
                                     done(std::move(outcome));
                                     self->flusher_->job_finished();
                                   });
  for (std::size_t i = 0; i < parts.size(); ++i) {
    override_shard(parts[i].shard, mode, detail::take_part(updates, parts[i].positions),
                   std::move(callbacks[i]));
  }
}

// One shard's part of an override: one command or script, atomic on its
// own. A key lives in one shard, so the part's targets are its own.
void LaxCounter::Impl::override_shard(std::size_t shard, Mode mode,
                                      std::vector<ConditionalUpdate> updates,
                                      Callback<std::vector<UpdateResult>> done) {
  const std::string& hash = layout_.hash(shard);
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
  auto request = mode == Mode::overwrite ? overwrite_request(hash, updates)
                                         : override_request(hash, mode, updates, targets);
  flusher_->execute(
      std::move(request), [self = shared_from_this(), &hash, mode, updates = std::move(updates),
                           targets = std::move(targets),
                           done = std::move(done)](error_code error, Reply reply) mutable {
        Outcome<std::vector<UpdateResult>> outcome{error, {}, {}};
        if (!error) {
          try {
            outcome.value = mode == Mode::overwrite
                                ? self->settle_overwrite(hash, updates, targets, reply)
                                : self->settle_override(hash, mode, updates, targets, reply);
          } catch (const Error& e) {
            outcome = Outcome<std::vector<UpdateResult>>::failure(e);
          }
        }
        if (outcome.error) self->release(targets);
        done(std::move(outcome));
      });
}

// set/set_all: one plain HSET per shard does it exactly (the last entry of
// a key wins, as in the call's order); nothing before is read or reported.
detail::Request LaxCounter::Impl::overwrite_request(
    const std::string& hash, const std::vector<ConditionalUpdate>& updates) const {
  detail::RequestBuilder builder("HSET");
  builder.key(hash);
  for (const auto& update : updates) builder.arg(update.key.str()).arg(update.count);
  return builder.build();
}

// set_if/set_all_if/del report the value before with the pending delta
// and compare against it, atomically with the write: a lean script.
detail::Request LaxCounter::Impl::override_request(const std::string& hash, Mode mode,
                                                   const std::vector<ConditionalUpdate>& updates,
                                                   Targets& targets) const {
  detail::RequestBuilder builder(detail::lax_override_script(), 1);
  builder.arg(hash).arg(mode == Mode::del ? "del" : "set");
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
    const std::string& hash, const std::vector<ConditionalUpdate>& updates, Targets& targets,
    const Reply& reply) {
  std::vector<RedisKey> keys;
  keys.reserve(updates.size());
  for (const auto& update : updates) keys.push_back(update.key);
  detail::throw_if_error(reply, hash, keys);
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
    const std::string& hash, Mode mode, const std::vector<ConditionalUpdate>& updates,
    Targets& targets, const Reply& reply) {
  std::vector<RedisKey> keys;
  keys.reserve(updates.size());
  for (const auto& update : updates) keys.push_back(update.key);
  detail::throw_if_error(reply, hash, keys);
  const auto& elements = detail::array_of(reply, 3 * updates.size());
  std::vector<UpdateResult> results;
  results.reserve(updates.size());
  for (std::size_t i = 0; i < updates.size(); ++i) {
    const std::int64_t raw = detail::field_value(elements[3 * i], hash, keys[i]);
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

// Clear's walk over the slots: each ready slot and the delta taken from it,
// and how each shard's deletion went.
struct LaxCounter::Impl::ClearWalk {
  ClearWalk(std::size_t shards, Callback<detail::Done> callback)
      : shard_failed(shards, false), done(std::move(callback)) {}
  std::vector<std::pair<LaxSlot*, int128>> targets;
  std::vector<LaxSlot*> map_shard;  // the slots of the LaxSlotMap shard being walked
  std::size_t next_map_shard = 0;
  std::size_t position = 0;  // in `map_shard`, or in `targets` once sent
  // Per counter shard: its UNLINK failed. Written before the shard reports
  // to gather(), read once every shard has (a byte each: no shared words).
  std::vector<char> shard_failed;
  Outcome<detail::Done> outcome;  // the lowest-numbered failing shard's
  Callback<detail::Done> done;
};

// Per shard, one UNLINK of the shard's hash, this instance's flush record
// (other instances' records expire on their own) and the set-aside list;
// with one shard also the flush-record hash of earlier versions. The walks
// over the slots before and after run in slices of clear_slice slots with
// a post between them, so the strand's other work (other counters'
// replies) never waits long behind them.
void LaxCounter::Impl::start_clear(Callback<detail::Done> done) {
  take_for_clear(std::make_shared<ClearWalk>(layout_.count(), std::move(done)));
}

void LaxCounter::Impl::take_for_clear(const std::shared_ptr<ClearWalk>& walk) {
  for (std::size_t taken = 0; taken < clear_slice; ++taken) {
    if (walk->position == walk->map_shard.size()) {
      if (walk->next_map_shard == detail::LaxSlotMap::shard_count) return send_clear(walk);
      walk->map_shard.clear();
      walk->position = 0;
      flusher_->slots().collect(walk->next_map_shard++, walk->map_shard);
      continue;
    }
    LaxSlot& slot = *walk->map_shard[walk->position++];
    const auto state = slot.state.load(std::memory_order_acquire);
    if (state != LaxSlot::ready && state != LaxSlot::retiring) continue;
    const int128 taken_delta = flusher_->pending_of(slot);
    flusher_->hold(slot, taken_delta);
    walk->targets.emplace_back(&slot, taken_delta);
  }
  boost::asio::post(executor(), [self = shared_from_this(), walk] { self->take_for_clear(walk); });
}

void LaxCounter::Impl::send_clear(const std::shared_ptr<ClearWalk>& walk) {
  walk->map_shard = {};
  walk->position = 0;
  std::vector<detail::ShardPart> parts(layout_.count());
  for (std::size_t shard = 0; shard < parts.size(); ++shard) parts[shard].shard = shard;
  auto callbacks = detail::gather<detail::Done>(
      parts, 0, [self = shared_from_this(), walk](Outcome<std::vector<detail::Done>> outcome) {
        walk->outcome = {outcome.error, std::move(outcome.message), {}};
        self->settle_clear(walk);
      });
  for (std::size_t shard = 0; shard < parts.size(); ++shard) {
    // UNLINK: Redis frees a large hash in the background.
    detail::RequestBuilder builder("UNLINK");
    builder.key(layout_.hash(shard))
        .key(detail::lax_record_key(layout_, shard, instance_))
        .key(detail::lax_set_aside_key(layout_, shard));
    if (layout_.count() == 1) builder.key(layout_.auxiliary(0, "flushed"));
    flusher_->execute(builder.build(), [walk, shard, done = std::move(callbacks[shard])](
                                           error_code error, Reply reply) mutable {
      if (!error && reply.is_error()) error = make_error_code(Errc::redis);
      if (error) walk->shard_failed[shard] = true;
      done({error, reply.is_error() ? reply.text : std::string(), {}});
    });
  }
}

// Applies the clear to the slots walked (or, for a shard whose UNLINK
// failed, makes their taken deltas pending again), a slice at a time; then
// completes it.
void LaxCounter::Impl::settle_clear(const std::shared_ptr<ClearWalk>& walk) {
  const std::int64_t now = lax_now_ns();
  const std::size_t end = std::min(walk->targets.size(), walk->position + clear_slice);
  for (; walk->position < end; ++walk->position) {
    auto [slot, taken] = walk->targets[walk->position];
    flusher_->unhold(*slot, taken);
    if (walk->outcome.error && walk->shard_failed[layout_.shard_of(*slot->key)]) {
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
    boost::asio::post(executor(), [self = shared_from_this(), walk] { self->settle_clear(walk); });
    return;
  }
  Outcome<detail::Done> outcome = std::move(walk->outcome);
  if (outcome.error && outcome.message.empty()) outcome.message = Error(outcome.error).what();
  walk->done(std::move(outcome));
  flusher_->job_finished();
}

}  // namespace distkit
