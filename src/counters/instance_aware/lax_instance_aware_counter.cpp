// LaxInstanceAwareCounter's public methods and its buffered increments; the
// buffer and the flusher are LaxFlusher's (with LaxInstanceLayout), reads
// are in lax_instance_reads.cpp, immediate calls are the strict counter's.
#include "distkit/lax_instance_aware_counter.hpp"

#include <limits>

#include "client/client_access.hpp"
#include "counters/instance_aware/lax_instance_impl.hpp"
#include "counters/instance_aware/lax_instance_layout.hpp"

namespace distkit {
namespace {

using boost::system::error_code;
using detail::Done;
using detail::int128;
using detail::LaxSlot;
using detail::Outcome;
using detail::OutcomeCallback;
using detail::instance_aware::LaxIncrement;
using Results = std::vector<InstanceUpdateResult>;
namespace ia = detail::instance_aware;

// Adapts a callback of one result type to the type an operation produces.
template <class From, class To, class Transform>
OutcomeCallback<From> mapped(OutcomeCallback<To> done, Transform transform) {
  return [done = std::move(done), transform](Outcome<From> outcome) mutable {
    if (outcome.error) return done({outcome.error, std::move(outcome.message), To{}});
    done({{}, {}, transform(std::move(outcome.value))});
  };
}

InstanceCount first_count(Results results) {
  return results.front().value;
}
InstanceUpdateResult first_result(Results results) {
  return results.front();
}
std::vector<InstanceCount> values_of(Results results) {
  std::vector<InstanceCount> values;
  values.reserve(results.size());
  for (const InstanceUpdateResult& result : results) values.push_back(result.value);
  return values;
}
Results as_is(Results results) {
  return results;
}

InstanceCount pair_of(const InstanceCount& count) {
  return count;
}
InstanceCount pair_of(const InstanceUpdateResult& result) {
  return result.value;
}

// ---- Operations: op(impl, done) starts a call; a method's blocking and
// async forms run the same operation. ----

template <class T, class Transform>
auto buffered(std::vector<LaxIncrement> updates, Transform transform) {
  return [updates = std::move(updates), transform](auto& impl, OutcomeCallback<T> done) mutable {
    impl.increments(std::move(updates), mapped<Results, T>(std::move(done), transform));
  };
}

template <class T>
auto buffered_one(RedisKey key, CounterComparator cmp, int128 delta, T (*transform)(Results)) {
  std::vector<LaxIncrement> updates;
  updates.push_back({std::move(key), cmp, delta});
  return buffered<T>(std::move(updates), transform);
}

std::vector<LaxIncrement> increments_of(std::span<const KeyCount> updates) {
  std::vector<LaxIncrement> increments;
  increments.reserve(updates.size());
  for (const KeyCount& update : updates) {
    increments.push_back({update.key, CounterComparator::nil(), update.count});
  }
  return increments;
}

std::vector<LaxIncrement> increments_of(std::span<const ConditionalUpdate> updates) {
  std::vector<LaxIncrement> increments;
  increments.reserve(updates.size());
  for (const ConditionalUpdate& update : updates) {
    increments.push_back({update.key, update.comparator, update.count});
  }
  return increments;
}

auto reading(std::vector<RedisKey> keys) {
  return [keys = std::move(keys)](auto& impl, OutcomeCallback<std::vector<InstanceCount>> done) {
    impl.read(keys, std::move(done));
  };
}

auto reading_one(RedisKey key) {
  return [key = std::move(key)](auto& impl, OutcomeCallback<InstanceCount> done) {
    impl.read({&key, 1},
              mapped<std::vector<InstanceCount>, InstanceCount>(
                  std::move(done), [](std::vector<InstanceCount> all) { return all.front(); }));
  };
}

// An immediate call: the strict counter's `call`, whose per-entry results
// `transform` turns into the method's value.
template <class T, class Transform, class Settle>
auto immediate(ia::Call call, Transform transform, Settle settle) {
  return [call = std::move(call), transform, settle = std::move(settle)](auto& impl,
                                                                         OutcomeCallback<T> done) {
    impl.template immediate<T>(call, transform, settle, std::move(done));
  };
}

ia::Entry entry_of(ia::Mode mode, RedisKey key, std::int64_t count,
                   CounterComparator cmp = CounterComparator::nil()) {
  return {mode, std::move(key), cmp, count};
}

// `want_previous`: the conditional forms report the values before each
// entry, compared or not.
ia::Call call_of(std::vector<ia::Entry> entries, bool want_previous = false) {
  ia::Call call;
  call.entries = std::move(entries);
  call.want_previous = want_previous;
  return call;
}

ia::Call call_of(ia::Entry entry, bool want_previous = false) {
  std::vector<ia::Entry> entries;
  entries.push_back(std::move(entry));
  return call_of(std::move(entries), want_previous);
}

// The key's pair after the call is the call's value.
auto settle_value(RedisKey key) {
  return [key = std::move(key)](auto& impl, const auto& value) {
    impl.settle_key(key.str(), pair_of(value));
  };
}

// Batches: the pair after each entry, in order (the last one of a key wins).
auto settle_values(std::vector<RedisKey> keys) {
  return [keys = std::move(keys)](auto& impl, const auto& values) {
    for (std::size_t i = 0; i < values.size(); ++i)
      impl.settle_key(keys[i].str(), pair_of(values[i]));
  };
}

template <class Updates>
std::vector<RedisKey> keys_of(const Updates& updates) {
  std::vector<RedisKey> keys;
  keys.reserve(updates.size());
  for (const auto& update : updates) keys.push_back(update.key);
  return keys;
}

ia::Mode set_mode(bool on_instance) {
  return on_instance ? ia::Mode::set_on_instance : ia::Mode::set;
}

auto set_op(RedisKey key, std::int64_t count, bool on_instance) {
  return immediate<InstanceCount>(call_of(entry_of(set_mode(on_instance), key, count)), first_count,
                                  settle_value(key));
}
// del returns what the key had; afterwards it has nothing.
auto del_op(RedisKey key) {
  return immediate<InstanceCount>(
      call_of(entry_of(ia::Mode::del, key, 0)),
      [](Results results) { return results.front().previous; },
      [key](auto& impl, const InstanceCount&) {
        impl.settle_key(key.str(), {0, 0});
      });
}
// del_on_instance returns {cumulative after, slice removed}.
auto del_on_instance_op(RedisKey key) {
  return immediate<InstanceCount>(call_of(entry_of(ia::Mode::del_on_instance, key, 0)), first_count,
                                  [key](auto& impl, const InstanceCount& value) {
                                    impl.settle_key(key.str(), {value.cumulative, 0});
                                  });
}
auto clear_op(bool on_instance) {
  ia::Call call;
  call.script = on_instance ? ia::Script::clear_on_instance : ia::Script::clear;
  return immediate<Done>(
      std::move(call), [](Results) { return Done{}; },
      [on_instance](auto& impl, const Done&) {
        impl.settle_all(on_instance);
        if (!on_instance) impl.forget_flush_state();
      });
}
auto set_if_op(RedisKey key, CounterComparator cmp, std::int64_t count, bool on_instance) {
  return immediate<InstanceUpdateResult>(
      call_of(entry_of(set_mode(on_instance), key, count, cmp), true), first_result,
      settle_value(key));
}
auto set_all_op(std::span<const KeyCount> updates, bool on_instance) {
  std::vector<ia::Entry> entries;
  entries.reserve(updates.size());
  for (const KeyCount& update : updates) {
    entries.push_back(entry_of(set_mode(on_instance), update.key, update.count));
  }
  return immediate<std::vector<InstanceCount>>(call_of(std::move(entries)), values_of,
                                               settle_values(keys_of(updates)));
}
auto set_all_if_op(std::span<const ConditionalUpdate> updates, bool on_instance) {
  std::vector<ia::Entry> entries;
  entries.reserve(updates.size());
  for (const ConditionalUpdate& update : updates) {
    entries.push_back(entry_of(set_mode(on_instance), update.key, update.count, update.comparator));
  }
  return immediate<Results>(call_of(std::move(entries), true), as_is,
                            settle_values(keys_of(updates)));
}

template <class T, class Impl, class Op>
T run_blocking(Impl& impl, Op op) {
  return impl.template blocking<T>([&](OutcomeCallback<T> done) { op(impl, std::move(done)); });
}

template <class T, class Impl, class Op, class Handler>
void run_async(Impl& impl, Op op, Handler handler) {
  if (auto done = impl.template completion<T>(std::move(handler))) op(impl, std::move(done));
}

// An empty batch returns at once, without Redis.
template <class T, class Impl, class Op, class Batch>
std::vector<T> run_batch(Impl& impl, const Batch& batch, Op op) {
  if (batch.empty()) return {};
  return run_blocking<std::vector<T>>(impl, std::move(op));
}

template <class T, class Impl, class Op, class Batch, class Handler>
void run_async_batch(Impl& impl, const Batch& batch, Op op, Handler handler) {
  if (batch.empty()) {
    return detail::completion_for<std::vector<T>>(std::move(handler), impl.executor())({});
  }
  run_async<std::vector<T>>(impl, std::move(op), std::move(handler));
}

int128 negated(std::int64_t count) {
  return -int128{count};
}

}  // namespace

// ---- Impl: construction and buffered increments ----

Error LaxInstanceAwareCounter::Impl::closed_error() {
  return Error(Errc::closed, "the client of this LaxInstanceAwareCounter was closed");
}

LaxInstanceAwareCounter::Impl::Impl(const InstanceAwareCounterOptions& options,
                                    StrictInstanceAwareCounter& strict)
    : Impl(options, strict,
           std::make_unique<ia::LaxInstanceLayout>(ia::Layout(options.prefix, ia::Kind::lax),
                                                   strict.instance_id())) {}

LaxInstanceAwareCounter::Impl::Impl(const InstanceAwareCounterOptions& options,
                                    StrictInstanceAwareCounter& strict,
                                    std::unique_ptr<ia::LaxInstanceLayout> layout)
    : strict_(strict),
      flush_layout_(*layout),
      flusher_(
          std::make_shared<detail::LaxFlusher>(detail::ClientAccess::connection(*options.client),
                                               options.allowed_lag, std::move(layout))) {}

std::string LaxInstanceAwareCounter::Impl::lane_message(error_code error) const {
  if (error == Errc::closed) {
    return "LaxInstanceAwareCounter " + name() + " is shutting down or its client was closed";
  }
  return "the call waited longer than the command timeout for this instance's flushes of " +
         name() + " to Redis; it was not made";
}

Error LaxInstanceAwareCounter::Impl::overflow_error(const LaxSlot& slot) const {
  return Error(Errc::overflow, "key '" + detail::printable(*slot.key) + "' of " + name() +
                                   " would leave the int64 range; nothing was buffered");
}

InstanceCount LaxInstanceAwareCounter::Impl::add(LaxSlot& slot, std::int64_t step) {
  const std::int64_t others = slot.others.load(std::memory_order_relaxed);
  std::int64_t current = slot.view.load(std::memory_order_relaxed);
  std::int64_t next = 0, cumulative = 0;
  do {
    if (__builtin_add_overflow(current, step, &next) ||
        __builtin_add_overflow(others, next, &cumulative)) {
      throw overflow_error(slot);
    }
  } while (!slot.view.compare_exchange_weak(current, next, std::memory_order_acq_rel,
                                            std::memory_order_relaxed));
  if (step != 0) flusher_->mark_dirty(slot);
  return {cumulative, next};
}

InstanceUpdateResult LaxInstanceAwareCounter::Impl::add_if(LaxSlot& slot, CounterComparator cmp,
                                                           int128 delta) {
  const int128 others = slot.others.load(std::memory_order_relaxed);
  std::int64_t current = slot.view.load(std::memory_order_relaxed);
  std::int64_t next = 0;
  do {
    if (cmp.kind() != CounterComparator::Kind::nil &&
        !cmp.matches(detail::LaxFlusher::saturate(others + current))) {
      const InstanceCount now{detail::LaxFlusher::saturate(others + current), current};
      return {now, now, false};
    }
    const int128 sum = current + delta;
    if (!detail::fits_int64(sum) || !detail::fits_int64(others + sum)) throw overflow_error(slot);
    next = static_cast<std::int64_t>(sum);
  } while (!slot.view.compare_exchange_weak(current, next, std::memory_order_acq_rel,
                                            std::memory_order_relaxed));
  if (delta != 0) flusher_->mark_dirty(slot);
  return {{static_cast<std::int64_t>(others + next), next},
          {detail::LaxFlusher::saturate(others + current), current},
          true};
}

void LaxInstanceAwareCounter::Impl::increments(std::vector<LaxIncrement> updates,
                                               Callback<Results> done) {
  std::vector<LaxSlot*> slots;
  slots.reserve(updates.size());
  for (const auto& update : updates) {
    slots.push_back(flusher_->slots().find_or_create(update.key.str()));
  }
  auto apply = [self = shared_from_this(), slots, updates = std::move(updates),
                done = std::move(done)](Outcome<Done> warm) mutable {
    if (warm.error) return done({warm.error, std::move(warm.message), {}});
    Results results;
    results.reserve(updates.size());
    try {
      for (std::size_t i = 0; i < updates.size(); ++i) {
        results.push_back(self->add_if(*slots[i], updates[i].cmp, updates[i].delta));
      }
    } catch (const Error& e) {
      // All or none: take back what this call added.
      for (std::size_t i = results.size(); i-- > 0;) {
        if (results[i].applied) self->flusher_->take_back(*slots[i], updates[i].delta);
      }
      return done(Outcome<Results>::failure(e));
    }
    done({{}, {}, std::move(results)});
  };
  warm(std::move(slots), std::move(apply));
}

void LaxInstanceAwareCounter::Impl::forget_flush_state() {
  flusher_->execute(flush_layout_.forget_request(), [](error_code, detail::Reply) {});
}

// ---- Public methods ----

std::shared_ptr<LaxInstanceAwareCounter> LaxInstanceAwareCounter::create(
    InstanceAwareCounterOptions options) {
  if (options.allowed_lag <= std::chrono::milliseconds::zero()) {
    throw Error(Errc::invalid_argument,
                "InstanceAwareCounterOptions::allowed_lag must be positive");
  }
  // The strict counter on the lax layout checks the other options.
  auto strict = ia::StrictAccess::create(options, ia::Kind::lax);
  auto impl = std::make_shared<Impl>(options, *strict);
  return std::shared_ptr<LaxInstanceAwareCounter>(
      new LaxInstanceAwareCounter(std::move(strict), std::move(impl)));
}

LaxInstanceAwareCounter::LaxInstanceAwareCounter(std::shared_ptr<StrictInstanceAwareCounter> strict,
                                                 std::shared_ptr<Impl> impl)
    : strict_(std::move(strict)), impl_(std::move(impl)) {}

// Drains within 2 x command_timeout (see LaxFlusher::drain); the slots are
// freed afterwards in steps on the client's executor. No lane job runs
// after drain(), so the strict counter may go.
LaxInstanceAwareCounter::~LaxInstanceAwareCounter() {
  impl_->flusher().drain(2 * impl_->command_timeout(), "LaxInstanceAwareCounter " + impl_->name());
  impl_->flusher().release(std::move(impl_));
}

void LaxInstanceAwareCounter::flush() {
  impl_->blocking<Done>([&](OutcomeCallback<Done> done) {
    impl_->flusher().flush(impl_->command_timeout(), std::move(done));
  });
}

LaxCounterStats LaxInstanceAwareCounter::stats() const {
  return impl_->flusher().stats();
}

const std::string& LaxInstanceAwareCounter::instance_id() const noexcept {
  return strict_->instance_id();
}

InstanceCount LaxInstanceAwareCounter::inc(const RedisKey& key, std::int64_t count) {
  if (LaxSlot* slot = impl_->warm_slot(key)) return impl_->add(*slot, count);
  return run_blocking<InstanceCount>(
      *impl_, buffered_one(key, CounterComparator::nil(), count, first_count));
}
InstanceCount LaxInstanceAwareCounter::dec(const RedisKey& key, std::int64_t count) {
  if (LaxSlot* slot = impl_->warm_slot(key)) {
    if (count != std::numeric_limits<std::int64_t>::min()) return impl_->add(*slot, -count);
  }
  return run_blocking<InstanceCount>(
      *impl_, buffered_one(key, CounterComparator::nil(), negated(count), first_count));
}
InstanceUpdateResult LaxInstanceAwareCounter::inc_if(const RedisKey& key, CounterComparator cmp,
                                                     std::int64_t count) {
  if (LaxSlot* slot = impl_->warm_slot(key)) return impl_->add_if(*slot, cmp, count);
  return run_blocking<InstanceUpdateResult>(*impl_, buffered_one(key, cmp, count, first_result));
}
InstanceCount LaxInstanceAwareCounter::get(const RedisKey& key) {
  return run_blocking<InstanceCount>(*impl_, reading_one(key));
}
InstanceCount LaxInstanceAwareCounter::set(const RedisKey& key, std::int64_t count) {
  return run_blocking<InstanceCount>(*impl_, set_op(key, count, false));
}
InstanceCount LaxInstanceAwareCounter::set_on_instance(const RedisKey& key, std::int64_t count) {
  return run_blocking<InstanceCount>(*impl_, set_op(key, count, true));
}
InstanceCount LaxInstanceAwareCounter::del(const RedisKey& key) {
  return run_blocking<InstanceCount>(*impl_, del_op(key));
}
InstanceCount LaxInstanceAwareCounter::del_on_instance(const RedisKey& key) {
  return run_blocking<InstanceCount>(*impl_, del_on_instance_op(key));
}
void LaxInstanceAwareCounter::clear() {
  run_blocking<Done>(*impl_, clear_op(false));
}
void LaxInstanceAwareCounter::clear_on_instance() {
  run_blocking<Done>(*impl_, clear_op(true));
}
InstanceUpdateResult LaxInstanceAwareCounter::set_if(const RedisKey& key, CounterComparator cmp,
                                                     std::int64_t count) {
  return run_blocking<InstanceUpdateResult>(*impl_, set_if_op(key, cmp, count, false));
}
InstanceUpdateResult LaxInstanceAwareCounter::set_on_instance_if(const RedisKey& key,
                                                                 CounterComparator cmp,
                                                                 std::int64_t count) {
  return run_blocking<InstanceUpdateResult>(*impl_, set_if_op(key, cmp, count, true));
}
std::vector<InstanceCount> LaxInstanceAwareCounter::get_all(std::span<const RedisKey> keys) {
  return run_batch<InstanceCount>(*impl_, keys, reading({keys.begin(), keys.end()}));
}
std::vector<InstanceCount> LaxInstanceAwareCounter::inc_all(std::span<const KeyCount> updates) {
  return run_batch<InstanceCount>(
      *impl_, updates, buffered<std::vector<InstanceCount>>(increments_of(updates), values_of));
}
std::vector<InstanceCount> LaxInstanceAwareCounter::set_all(std::span<const KeyCount> updates) {
  return run_batch<InstanceCount>(*impl_, updates, set_all_op(updates, false));
}
std::vector<InstanceCount> LaxInstanceAwareCounter::set_all_on_instance(
    std::span<const KeyCount> updates) {
  return run_batch<InstanceCount>(*impl_, updates, set_all_op(updates, true));
}
std::vector<InstanceUpdateResult> LaxInstanceAwareCounter::inc_all_if(
    std::span<const ConditionalUpdate> updates) {
  return run_batch<InstanceUpdateResult>(*impl_, updates,
                                         buffered<Results>(increments_of(updates), as_is));
}
std::vector<InstanceUpdateResult> LaxInstanceAwareCounter::set_all_if(
    std::span<const ConditionalUpdate> updates) {
  return run_batch<InstanceUpdateResult>(*impl_, updates, set_all_if_op(updates, false));
}
std::vector<InstanceUpdateResult> LaxInstanceAwareCounter::set_all_on_instance_if(
    std::span<const ConditionalUpdate> updates) {
  return run_batch<InstanceUpdateResult>(*impl_, updates, set_all_if_op(updates, true));
}

// The async forms: a closed client fails at once; every completion is
// posted to the handler's executor, never run inside the call.
void LaxInstanceAwareCounter::initiate_inc(RedisKey key, std::int64_t count,
                                           Handler<InstanceCount> handler) {
  run_async<InstanceCount>(
      *impl_, buffered_one(std::move(key), CounterComparator::nil(), count, first_count),
      std::move(handler));
}
void LaxInstanceAwareCounter::initiate_dec(RedisKey key, std::int64_t count,
                                           Handler<InstanceCount> handler) {
  run_async<InstanceCount>(
      *impl_, buffered_one(std::move(key), CounterComparator::nil(), negated(count), first_count),
      std::move(handler));
}
void LaxInstanceAwareCounter::initiate_get(RedisKey key, Handler<InstanceCount> handler) {
  run_async<InstanceCount>(*impl_, reading_one(std::move(key)), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_set(RedisKey key, std::int64_t count,
                                           Handler<InstanceCount> handler) {
  run_async<InstanceCount>(*impl_, set_op(std::move(key), count, false), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_set_on_instance(RedisKey key, std::int64_t count,
                                                       Handler<InstanceCount> handler) {
  run_async<InstanceCount>(*impl_, set_op(std::move(key), count, true), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_del(RedisKey key, Handler<InstanceCount> handler) {
  run_async<InstanceCount>(*impl_, del_op(std::move(key)), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_del_on_instance(RedisKey key,
                                                       Handler<InstanceCount> handler) {
  run_async<InstanceCount>(*impl_, del_on_instance_op(std::move(key)), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_clear(ClearHandler handler) {
  run_async<Done>(*impl_, clear_op(false), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_clear_on_instance(ClearHandler handler) {
  run_async<Done>(*impl_, clear_op(true), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_inc_if(RedisKey key, CounterComparator cmp,
                                              std::int64_t count,
                                              Handler<InstanceUpdateResult> handler) {
  run_async<InstanceUpdateResult>(*impl_, buffered_one(std::move(key), cmp, count, first_result),
                                  std::move(handler));
}
void LaxInstanceAwareCounter::initiate_set_if(RedisKey key, CounterComparator cmp,
                                              std::int64_t count,
                                              Handler<InstanceUpdateResult> handler) {
  run_async<InstanceUpdateResult>(*impl_, set_if_op(std::move(key), cmp, count, false),
                                  std::move(handler));
}
void LaxInstanceAwareCounter::initiate_set_on_instance_if(RedisKey key, CounterComparator cmp,
                                                          std::int64_t count,
                                                          Handler<InstanceUpdateResult> handler) {
  run_async<InstanceUpdateResult>(*impl_, set_if_op(std::move(key), cmp, count, true),
                                  std::move(handler));
}
void LaxInstanceAwareCounter::initiate_get_all(std::vector<RedisKey> keys,
                                               Handler<std::vector<InstanceCount>> handler) {
  run_async_batch<InstanceCount>(*impl_, keys, reading(keys), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_inc_all(std::vector<KeyCount> updates,
                                               Handler<std::vector<InstanceCount>> handler) {
  run_async_batch<InstanceCount>(
      *impl_, updates, buffered<std::vector<InstanceCount>>(increments_of(updates), values_of),
      std::move(handler));
}
void LaxInstanceAwareCounter::initiate_set_all(std::vector<KeyCount> updates,
                                               Handler<std::vector<InstanceCount>> handler) {
  run_async_batch<InstanceCount>(*impl_, updates, set_all_op(updates, false), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_set_all_on_instance(
    std::vector<KeyCount> updates, Handler<std::vector<InstanceCount>> handler) {
  run_async_batch<InstanceCount>(*impl_, updates, set_all_op(updates, true), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_inc_all_if(
    std::vector<ConditionalUpdate> updates, Handler<std::vector<InstanceUpdateResult>> handler) {
  run_async_batch<InstanceUpdateResult>(
      *impl_, updates, buffered<Results>(increments_of(updates), as_is), std::move(handler));
}
void LaxInstanceAwareCounter::initiate_set_all_if(
    std::vector<ConditionalUpdate> updates, Handler<std::vector<InstanceUpdateResult>> handler) {
  run_async_batch<InstanceUpdateResult>(*impl_, updates, set_all_if_op(updates, false),
                                        std::move(handler));
}
void LaxInstanceAwareCounter::initiate_set_all_on_instance_if(
    std::vector<ConditionalUpdate> updates, Handler<std::vector<InstanceUpdateResult>> handler) {
  run_async_batch<InstanceUpdateResult>(*impl_, updates, set_all_if_op(updates, true),
                                        std::move(handler));
}

}  // namespace distkit
