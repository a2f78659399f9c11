// LaxCounter's public methods and its increments; the buffer and flusher
// are LaxFlusher's, reads and immediate operations are in lax_reads.cpp
// and lax_overrides.cpp.
#include "distkit/lax_counter.hpp"

#include <boost/uuid/uuid_generators.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <future>

#include "client/client_access.hpp"
#include "core/log.hpp"
#include "counters/batch_limit.hpp"
#include "counters/counter_options.hpp"
#include "counters/lax_counter_impl.hpp"
#include "counters/lax_epoch.hpp"
#include "counters/lax_hash_layout.hpp"
#include "counters/scripts.hpp"

namespace distkit {
namespace {

// Completes `done` with Errc::invalid_argument and returns true when the
// batch exceeds max_batch_entries (nothing is buffered or sent then).
template <class T>
bool refused_batch(std::string_view operation, std::size_t entries,
                   detail::OutcomeCallback<T>& done) {
  try {
    detail::check_batch_size(operation, entries);
    return false;
  } catch (const Error& e) {
    done(detail::Outcome<T>::failure(e));
    return true;
  }
}

using detail::Done;
using detail::int128;
using detail::LaxSlot;
using detail::Outcome;
using detail::OutcomeCallback;
using clock = std::chrono::steady_clock;

template <class T, class Fn>
Outcome<T> attempt(Fn& fn) {
  try {
    return {{}, {}, fn()};
  } catch (const Error& e) {
    return Outcome<T>::failure(e);
  }
}

template <class T>
std::vector<T> copy(std::span<const T> items) {
  return {items.begin(), items.end()};
}

std::vector<ConditionalUpdate> unconditional(std::span<const KeyCount> updates) {
  std::vector<ConditionalUpdate> conditional;
  conditional.reserve(updates.size());
  for (const KeyCount& update : updates) {
    conditional.push_back({update.key, CounterComparator::nil(), update.count});
  }
  return conditional;
}

std::vector<std::int64_t> values_of(const std::vector<UpdateResult>& results) {
  std::vector<std::int64_t> values;
  values.reserve(results.size());
  for (const UpdateResult& result : results) values.push_back(result.value);
  return values;
}

// Adapts a callback of one result type to the type an operation produces.
template <class From, class To, class Transform>
OutcomeCallback<From> mapped(OutcomeCallback<To> done, Transform transform) {
  return [done = std::move(done), transform](Outcome<From> outcome) mutable {
    if (outcome.error) return done({outcome.error, std::move(outcome.message), To{}});
    done({{}, {}, transform(std::move(outcome.value))});
  };
}

template <class T>
OutcomeCallback<std::vector<T>> first_of(OutcomeCallback<T> done) {
  return mapped<std::vector<T>, T>(std::move(done), [](std::vector<T> all) { return all.front(); });
}

int128 negated(std::int64_t count) {
  return -int128{count};
}

}  // namespace

std::int64_t lax_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

Error LaxCounter::Impl::closed_error() {
  return Error(Errc::closed, "the client of this LaxCounter was closed");
}

LaxCounter::Impl::Impl(const CounterOptions& options, detail::ShardLayout layout)
    : layout_(std::move(layout)),
      instance_(boost::uuids::to_string(boost::uuids::random_generator()())),
      name_(options.shards == 1 ? layout_.hash(0)
                                : options.prefix.str() + ":lax_counter (" +
                                      std::to_string(options.shards) + " shards)"),
      flusher_(std::make_shared<detail::LaxFlusher>(
          detail::ClientAccess::connection(*options.client), options.allowed_lag,
          std::make_unique<detail::LaxHashLayout>(layout_, instance_, name_))) {
  flusher_->reclaim_idle_keys(idle_before_reclaim.load());
}

// ---- Increments ----

void LaxCounter::Impl::Join::arrive(const Outcome<Done>& outcome) {
  if (outcome.error) {
    std::lock_guard lock(mutex);
    if (!first_error.error) first_error = outcome;
  }
  if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) done(std::move(first_error));
}

std::vector<UpdateResult> LaxCounter::Impl::add_all(const std::vector<LaxSlot*>& slots,
                                                    std::span<const ConditionalUpdate> updates) {
  std::vector<UpdateResult> results;
  results.reserve(updates.size());
  try {
    for (std::size_t i = 0; i < updates.size(); ++i) {
      results.push_back(flusher_->add_if(*slots[i], updates[i].comparator, updates[i].count));
    }
  } catch (const Error&) {
    for (std::size_t i = results.size(); i-- > 0;) {
      if (results[i].applied) flusher_->take_back(*slots[i], updates[i].count);
    }
    throw;
  }
  return results;
}

std::vector<LaxSlot*> LaxCounter::Impl::slots_of(std::span<const RedisKey> keys) {
  std::vector<LaxSlot*> slots;
  slots.reserve(keys.size());
  for (const RedisKey& key : keys) slots.push_back(flusher_->slots().pin_or_create(key.str()));
  return slots;
}

void LaxCounter::Impl::inc_async(const RedisKey& key, CounterComparator cmp, int128 delta,
                                 Callback<UpdateResult> done) {
  LaxSlot* slot = flusher_->slots().pin_or_create(key.str());
  done = unpinning({slot}, std::move(done));
  ensure_warm({slot}, [self = shared_from_this(), slot, cmp, delta,
                       done = std::move(done)](Outcome<Done> warm) mutable {
    if (warm.error) return done({warm.error, std::move(warm.message), {}});
    auto add = [&] { return self->flusher_->add_if(*slot, cmp, delta); };
    done(attempt<UpdateResult>(add));
  });
}

void LaxCounter::Impl::inc_all_async(std::vector<ConditionalUpdate> updates,
                                     Callback<std::vector<UpdateResult>> done) {
  std::vector<LaxSlot*> slots;
  slots.reserve(updates.size());
  for (const auto& update : updates) {
    slots.push_back(flusher_->slots().pin_or_create(update.key.str()));
  }
  done = unpinning(slots, std::move(done));
  ensure_warm(slots, [self = shared_from_this(), slots, updates = std::move(updates),
                      done = std::move(done)](Outcome<Done> warm) mutable {
    if (warm.error) return done({warm.error, std::move(warm.message), {}});
    auto add = [&] { return self->add_all(slots, updates); };
    done(attempt<std::vector<UpdateResult>>(add));
  });
}

void LaxCounter::Impl::inc_value(const RedisKey& key, int128 delta, Callback<std::int64_t> done) {
  inc_async(key, CounterComparator::nil(), delta,
            mapped<UpdateResult, std::int64_t>(std::move(done),
                                               [](UpdateResult result) { return result.value; }));
}

void LaxCounter::Impl::inc_all_values(std::vector<ConditionalUpdate> updates,
                                      Callback<std::vector<std::int64_t>> done) {
  inc_all_async(std::move(updates), mapped<std::vector<UpdateResult>, std::vector<std::int64_t>>(
                                        std::move(done), values_of));
}

// ---- Public methods ----

std::shared_ptr<LaxCounter> LaxCounter::create(CounterOptions options) {
  detail::check_counter_options(options);
  if (options.allowed_lag.count() <= 0) {
    throw Error(Errc::invalid_argument, "allowed_lag must be positive");
  }
  detail::ShardLayout layout(options.prefix, "lax_counter", options.shards);
  const std::string refusal =
      "the LaxCounter prefix '" + options.prefix.str() +
      "' puts a hash and its auxiliary keys in different Redis Cluster slots, because its '{' "
      "and '}' change the hash tag; use a prefix without '{' and '}'";
  for (std::size_t shard = 0; shard < layout.count(); ++shard) {
    detail::ClientAccess::require_one_slot(
        *options.client, {layout.hash(shard), detail::lax_set_aside_key(layout, shard)}, refusal);
  }
  auto impl = std::make_shared<Impl>(options, std::move(layout));
  return std::shared_ptr<LaxCounter>(new LaxCounter(std::move(options.client), std::move(impl)));
}

LaxCounter::LaxCounter(std::shared_ptr<Client> client, std::shared_ptr<Impl> impl)
    : client_(std::move(client)), impl_(std::move(impl)) {}

// The destructor stays within 2 x command_timeout (see LaxFlusher::drain).
// The slots are freed afterwards, in steps on the client's executor.
LaxCounter::~LaxCounter() {
  impl_->flusher().drain(2 * impl_->command_timeout(), "LaxCounter " + impl_->name());
  impl_->flusher().release(std::move(impl_));
}

void LaxCounter::flush() {
  impl_->blocking<Done>([&](OutcomeCallback<Done> done) {
    impl_->flusher().flush(impl_->command_timeout(), std::move(done));
  });
}

LaxCounterStats LaxCounter::stats() const {
  return impl_->flusher().stats();
}

// The warm path: a LaxSection keeps the slot from being reclaimed while it
// is used without a lock.
std::int64_t LaxCounter::inc(const RedisKey& key, std::int64_t count) {
  {
    const detail::LaxSection section;
    if (LaxSlot* slot = impl_->warm_slot(key)) return impl_->flusher().add(*slot, count);
  }
  return impl_->blocking<std::int64_t>(
      [&](OutcomeCallback<std::int64_t> done) { impl_->inc_value(key, count, std::move(done)); });
}

std::int64_t LaxCounter::dec(const RedisKey& key, std::int64_t count) {
  if (count != INT64_MIN) {
    const detail::LaxSection section;
    if (LaxSlot* slot = impl_->warm_slot(key)) return impl_->flusher().add(*slot, -count);
  }
  return impl_->blocking<std::int64_t>([&](OutcomeCallback<std::int64_t> done) {
    impl_->inc_value(key, negated(count), std::move(done));
  });
}

UpdateResult LaxCounter::inc_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) {
  {
    const detail::LaxSection section;
    if (LaxSlot* slot = impl_->warm_slot(key)) return impl_->flusher().add_if(*slot, cmp, count);
  }
  return impl_->blocking<UpdateResult>([&](OutcomeCallback<UpdateResult> done) {
    impl_->inc_async(key, cmp, count, std::move(done));
  });
}

std::int64_t LaxCounter::get(const RedisKey& key) {
  return impl_->blocking<std::int64_t>([&](OutcomeCallback<std::int64_t> done) {
    auto slots = impl_->slots_of({&key, 1});
    impl_->read_values(slots, Impl::unpinning(slots, first_of(std::move(done))));
  });
}

std::vector<std::int64_t> LaxCounter::get_all(std::span<const RedisKey> keys) {
  if (keys.empty()) return {};
  detail::check_batch_size("get_all", keys.size());
  return impl_->blocking<std::vector<std::int64_t>>(
      [&](OutcomeCallback<std::vector<std::int64_t>> done) {
        auto slots = impl_->slots_of(keys);
        impl_->read_values(slots, Impl::unpinning(slots, std::move(done)));
      });
}

std::int64_t LaxCounter::set(const RedisKey& key, std::int64_t count) {
  return impl_->blocking<std::int64_t>([&](OutcomeCallback<std::int64_t> done) {
    impl_->set_values({{key, CounterComparator::nil(), count}}, first_of(std::move(done)));
  });
}

std::int64_t LaxCounter::del(const RedisKey& key) {
  return impl_->blocking<std::int64_t>(
      [&](OutcomeCallback<std::int64_t> done) { impl_->del(key, std::move(done)); });
}

void LaxCounter::clear() {
  impl_->blocking<Done>([&](OutcomeCallback<Done> done) { impl_->clear(std::move(done)); });
}

UpdateResult LaxCounter::set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) {
  return impl_->blocking<UpdateResult>([&](OutcomeCallback<UpdateResult> done) {
    impl_->override(Impl::Mode::set, {{key, cmp, count}}, first_of(std::move(done)));
  });
}

std::vector<std::int64_t> LaxCounter::inc_all(std::span<const KeyCount> updates) {
  if (updates.empty()) return {};
  detail::check_batch_size("inc_all", updates.size());
  return impl_->blocking<std::vector<std::int64_t>>(
      [&](OutcomeCallback<std::vector<std::int64_t>> done) {
        impl_->inc_all_values(unconditional(updates), std::move(done));
      });
}

std::vector<std::int64_t> LaxCounter::set_all(std::span<const KeyCount> updates) {
  if (updates.empty()) return {};
  detail::check_batch_size("set_all", updates.size());
  return impl_->blocking<std::vector<std::int64_t>>(
      [&](OutcomeCallback<std::vector<std::int64_t>> done) {
        impl_->set_values(unconditional(updates), std::move(done));
      });
}

std::vector<UpdateResult> LaxCounter::inc_all_if(std::span<const ConditionalUpdate> updates) {
  if (updates.empty()) return {};
  detail::check_batch_size("inc_all_if", updates.size());
  return impl_->blocking<std::vector<UpdateResult>>(
      [&](OutcomeCallback<std::vector<UpdateResult>> done) {
        impl_->inc_all_async(copy(updates), std::move(done));
      });
}

std::vector<UpdateResult> LaxCounter::set_all_if(std::span<const ConditionalUpdate> updates) {
  if (updates.empty()) return {};
  detail::check_batch_size("set_all_if", updates.size());
  return impl_->blocking<std::vector<UpdateResult>>(
      [&](OutcomeCallback<std::vector<UpdateResult>> done) {
        impl_->override(Impl::Mode::set, copy(updates), std::move(done));
      });
}

// The async forms: a closed client fails at once; every completion is
// posted to the handler's executor, never run inside the call.
void LaxCounter::initiate_inc(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  if (auto done = impl_->completion<std::int64_t>(std::move(handler))) {
    impl_->inc_value(key, count, std::move(done));
  }
}
void LaxCounter::initiate_dec(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  if (auto done = impl_->completion<std::int64_t>(std::move(handler))) {
    impl_->inc_value(key, negated(count), std::move(done));
  }
}
void LaxCounter::initiate_get(RedisKey key, Handler<std::int64_t> handler) {
  if (auto done = impl_->completion<std::int64_t>(std::move(handler))) {
    auto slots = impl_->slots_of({&key, 1});
    impl_->read_values(slots, Impl::unpinning(slots, first_of(std::move(done))));
  }
}
void LaxCounter::initiate_set(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  if (auto done = impl_->completion<std::int64_t>(std::move(handler))) {
    impl_->set_values({{key, CounterComparator::nil(), count}}, first_of(std::move(done)));
  }
}
void LaxCounter::initiate_del(RedisKey key, Handler<std::int64_t> handler) {
  if (auto done = impl_->completion<std::int64_t>(std::move(handler))) {
    impl_->del(key, std::move(done));
  }
}
void LaxCounter::initiate_clear(ClearHandler handler) {
  if (auto done = impl_->completion<Done>(std::move(handler))) impl_->clear(std::move(done));
}
void LaxCounter::initiate_inc_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                                 Handler<UpdateResult> handler) {
  if (auto done = impl_->completion<UpdateResult>(std::move(handler))) {
    impl_->inc_async(key, cmp, count, std::move(done));
  }
}
void LaxCounter::initiate_set_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                                 Handler<UpdateResult> handler) {
  if (auto done = impl_->completion<UpdateResult>(std::move(handler))) {
    impl_->override(Impl::Mode::set, {{key, cmp, count}}, first_of(std::move(done)));
  }
}
void LaxCounter::initiate_get_all(std::vector<RedisKey> keys,
                                  Handler<std::vector<std::int64_t>> handler) {
  if (auto done = impl_->completion<std::vector<std::int64_t>>(std::move(handler), keys.empty())) {
    if (keys.empty()) return done({});
    if (refused_batch("get_all", keys.size(), done)) return;
    auto slots = impl_->slots_of(keys);
    impl_->read_values(slots, Impl::unpinning(slots, std::move(done)));
  }
}
void LaxCounter::initiate_inc_all(std::vector<KeyCount> updates,
                                  Handler<std::vector<std::int64_t>> handler) {
  if (auto done =
          impl_->completion<std::vector<std::int64_t>>(std::move(handler), updates.empty())) {
    if (updates.empty()) return done({});
    if (refused_batch("inc_all", updates.size(), done)) return;
    impl_->inc_all_values(unconditional(updates), std::move(done));
  }
}
void LaxCounter::initiate_set_all(std::vector<KeyCount> updates,
                                  Handler<std::vector<std::int64_t>> handler) {
  if (auto done =
          impl_->completion<std::vector<std::int64_t>>(std::move(handler), updates.empty())) {
    if (updates.empty()) return done({});
    if (refused_batch("set_all", updates.size(), done)) return;
    impl_->set_values(unconditional(updates), std::move(done));
  }
}
void LaxCounter::initiate_inc_all_if(std::vector<ConditionalUpdate> updates,
                                     Handler<std::vector<UpdateResult>> handler) {
  if (auto done =
          impl_->completion<std::vector<UpdateResult>>(std::move(handler), updates.empty())) {
    if (updates.empty()) return done({});
    if (refused_batch("inc_all_if", updates.size(), done)) return;
    impl_->inc_all_async(std::move(updates), std::move(done));
  }
}
void LaxCounter::initiate_set_all_if(std::vector<ConditionalUpdate> updates,
                                     Handler<std::vector<UpdateResult>> handler) {
  if (auto done =
          impl_->completion<std::vector<UpdateResult>>(std::move(handler), updates.empty())) {
    if (updates.empty()) return done({});
    if (refused_batch("set_all_if", updates.size(), done)) return;
    impl_->override(Impl::Mode::set, std::move(updates), std::move(done));
  }
}

}  // namespace distkit
