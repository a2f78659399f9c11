#include "distkit/lax_counter.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/uuid/uuid_generators.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <future>
#include <limits>
#include <mutex>
#include <random>
#include <unordered_map>

#include "client/backoff.hpp"
#include "client/client_access.hpp"
#include "core/log.hpp"
#include "counters/decimal.hpp"
#include "counters/lax_lane.hpp"
#include "counters/lax_slot_map.hpp"
#include "counters/operation.hpp"
#include "counters/replies.hpp"
#include "counters/scripts.hpp"

namespace distkit {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using clock = std::chrono::steady_clock;
using detail::Done;
using detail::int128;
using detail::LaxSlot;
using detail::Outcome;
using detail::OutcomeCallback;
using detail::Reply;
using detail::RequestBuilder;
using detail::UniqueFunction;
using Entry = detail::LaxSlotMap::Entry;

// Keys per flush script call: large enough to amortise the round trip,
// small enough that one call keeps Redis busy for about a millisecond.
constexpr std::size_t flush_chunk_keys = 2000;
// How long Redis remembers an instance's last applied flush. A retry comes
// within seconds; an hour leaves a wide margin and still cleans up after
// instances that went away.
constexpr std::chrono::milliseconds flush_record_ttl = std::chrono::hours(1);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

std::int64_t saturate(int128 value) {
  return static_cast<std::int64_t>(std::clamp<int128>(
      value, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()));
}

// Moves the view by `delta` (a change of base or a settled delta), clamped
// to int64: only a foreign writer pushing a key to the edge of the range
// can get there.
void shift_view(LaxSlot& slot, int128 delta) {
  if (delta == 0) return;
  std::int64_t current = slot.view.load(std::memory_order_relaxed);
  while (!slot.view.compare_exchange_weak(current, saturate(current + delta),
                                          std::memory_order_acq_rel)) {
  }
}

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

int128 negated(std::int64_t count) {
  return -int128{count};
}

}  // namespace

// All Redis work of a LaxCounter runs on the connection's strand. Flushes,
// immediate operations, stale-read refreshes and clear go through one lane,
// one at a time: each starts only after the previous one was answered, and a
// flush that failed blocks the lane until its retry succeeds. So when an
// immediate operation runs, no delta of this counter is in an unknown state
// in Redis, and its override is ordered after every earlier flush.
class LaxCounter::Impl : public std::enable_shared_from_this<Impl> {
 public:
  explicit Impl(const CounterOptions& options)
      : connection_(detail::ClientAccess::connection(*options.client)),
        allowed_lag_(options.allowed_lag),
        hash_(detail::lax_hash_key(options.prefix)),
        record_(detail::lax_flush_record_key(options.prefix)),
        instance_id_(boost::uuids::to_string(boost::uuids::random_generator()())),
        flush_timer_(connection_->executor()),
        retry_timer_(connection_->executor()),
        lane_timer_(connection_->executor()),
        backoff_(std::chrono::milliseconds(10),
                 std::max(std::chrono::milliseconds(20), connection_->command_timeout() / 2),
                 std::random_device{}()) {}

  const asio::any_io_executor& executor() const { return connection_->executor(); }

  // ---- Increments: any thread, no network once a key is warm ----

  // The entry of `key` when its Redis value is known, else nullptr.
  Entry* warm_entry(const RedisKey& key) const {
    Entry* entry = slots_.find(key.str());
    if (entry && entry->second.state.load(std::memory_order_acquire) == LaxSlot::ready) {
      return entry;
    }
    return nullptr;
  }

  std::int64_t add(Entry& entry, int128 delta) {
    if (!detail::fits_int64(delta)) return add_if(entry, CounterComparator::nil(), delta).value;
    // The hot path: one CAS with an overflow check.
    LaxSlot& slot = entry.second;
    const auto step = static_cast<std::int64_t>(delta);
    std::int64_t current = slot.view.load(std::memory_order_relaxed);
    std::int64_t next = 0;
    do {
      if (__builtin_add_overflow(current, step, &next)) throw overflow_error(entry);
    } while (!slot.view.compare_exchange_weak(current, next, std::memory_order_acq_rel));
    if (step != 0) mark_dirty(entry);
    return next;
  }

  UpdateResult add_if(Entry& entry, CounterComparator cmp, int128 delta) {
    LaxSlot& slot = entry.second;
    std::int64_t current = slot.view.load(std::memory_order_relaxed);
    std::int64_t next = 0;
    do {
      if (!cmp.matches(current)) return {current, current, false};
      const int128 sum = current + delta;
      if (!detail::fits_int64(sum)) throw overflow_error(entry);
      next = static_cast<std::int64_t>(sum);
    } while (!slot.view.compare_exchange_weak(current, next, std::memory_order_acq_rel));
    if (delta != 0) mark_dirty(entry);
    return {next, current, true};
  }

  static Error overflow_error(const Entry& entry) {
    return Error(Errc::overflow, "the local value of key '" + detail::printable(entry.first) +
                                     "' would leave the int64 range; nothing was buffered");
  }

  // Applies `updates` in order; on overflow takes back the earlier ones.
  std::vector<UpdateResult> add_all(const std::vector<Entry*>& entries,
                                    std::span<const ConditionalUpdate> updates) {
    std::vector<UpdateResult> results;
    results.reserve(updates.size());
    try {
      for (std::size_t i = 0; i < updates.size(); ++i) {
        results.push_back(add_if(*entries[i], updates[i].comparator, updates[i].count));
      }
    } catch (const Error&) {
      for (std::size_t i = results.size(); i-- > 0;) {
        if (results[i].applied) shift_view(entries[i]->second, -int128{updates[i].count});
      }
      throw;
    }
    return results;
  }

  // Makes every entry warm (one Redis read for those that are cold, shared
  // with concurrent first touches of the same keys), then calls `done`.
  void ensure_warm(const std::vector<Entry*>& entries, OutcomeCallback<Done> done) {
    auto join = std::make_shared<Join>(std::move(done));
    std::vector<Entry*> to_fetch;
    {
      std::lock_guard lock(fetch_mutex_);
      for (Entry* entry : entries) {
        LaxSlot& slot = entry->second;
        if (slot.state.load(std::memory_order_acquire) == LaxSlot::ready) continue;
        join->remaining.fetch_add(1, std::memory_order_relaxed);
        auto& waiters = fetch_waiters_[entry];
        if (waiters.empty()) to_fetch.push_back(entry);  // nobody is fetching it yet
        waiters.push_back(join);
        slot.state.store(LaxSlot::fetching, std::memory_order_relaxed);
      }
    }
    if (!to_fetch.empty()) fetch(std::move(to_fetch));
    join->arrive({});
  }

  std::vector<Entry*> entries_of(std::span<const RedisKey> keys) {
    std::vector<Entry*> entries;
    entries.reserve(keys.size());
    for (const RedisKey& key : keys) entries.push_back(slots_.find_or_create(key.str()));
    return entries;
  }

  // Runs `fn` once `entries` are warm and reports its result to `done`.
  template <class T, class Fn>
  void when_warm(const std::vector<Entry*>& entries, Fn fn, OutcomeCallback<T> done) {
    ensure_warm(entries, [fn = std::move(fn), done = std::move(done)](Outcome<Done> warm) mutable {
      if (warm.error) return done({warm.error, std::move(warm.message), T{}});
      done(attempt<T>(fn));
    });
  }

  void inc_async(const RedisKey& key, CounterComparator cmp, int128 delta,
                 OutcomeCallback<UpdateResult> done) {
    Entry* entry = slots_.find_or_create(key.str());
    when_warm<UpdateResult>(
        {entry},
        [self = shared_from_this(), entry, cmp, delta] { return self->add_if(*entry, cmp, delta); },
        std::move(done));
  }

  void inc_all_async(std::vector<ConditionalUpdate> updates,
                     OutcomeCallback<std::vector<UpdateResult>> done) {
    std::vector<Entry*> entries;
    entries.reserve(updates.size());
    for (const auto& update : updates) entries.push_back(slots_.find_or_create(update.key.str()));
    when_warm<std::vector<UpdateResult>>(
        entries,
        [self = shared_from_this(), entries, updates = std::move(updates)] {
          return self->add_all(entries, updates);
        },
        std::move(done));
  }

  void inc_value(const RedisKey& key, int128 delta, OutcomeCallback<std::int64_t> done) {
    inc_async(key, CounterComparator::nil(), delta,
              mapped<UpdateResult, std::int64_t>(std::move(done),
                                                 [](UpdateResult result) { return result.value; }));
  }

  void inc_all_values(std::vector<ConditionalUpdate> updates,
                      OutcomeCallback<std::vector<std::int64_t>> done) {
    inc_all_async(std::move(updates), mapped<std::vector<UpdateResult>, std::vector<std::int64_t>>(
                                          std::move(done), values_of));
  }

  void get(const RedisKey& key, OutcomeCallback<std::int64_t> done) {
    read_values(
        {slots_.find_or_create(key.str())},
        mapped<std::vector<std::int64_t>, std::int64_t>(
            std::move(done), [](std::vector<std::int64_t> values) { return values.front(); }));
  }

  void set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count,
              OutcomeCallback<UpdateResult> done) {
    override(
        Mode::set, {{key, cmp, count}},
        mapped<std::vector<UpdateResult>, UpdateResult>(
            std::move(done), [](std::vector<UpdateResult> results) { return results.front(); }));
  }

  void set(const RedisKey& key, std::int64_t count, OutcomeCallback<std::int64_t> done) {
    override(Mode::set, {{key, CounterComparator::nil(), count}},
             mapped<std::vector<UpdateResult>, std::int64_t>(
                 std::move(done),
                 [](std::vector<UpdateResult> results) { return results.front().value; }));
  }

  void set_all_values(std::vector<ConditionalUpdate> updates,
                      OutcomeCallback<std::vector<std::int64_t>> done) {
    override(
        Mode::set, std::move(updates),
        mapped<std::vector<UpdateResult>, std::vector<std::int64_t>>(std::move(done), values_of));
  }

  void del(const RedisKey& key, OutcomeCallback<std::int64_t> done) {
    override(Mode::del, {{key, CounterComparator::nil(), 0}},
             mapped<std::vector<UpdateResult>, std::int64_t>(
                 std::move(done),
                 [](std::vector<UpdateResult> results) { return results.front().previous; }));
  }

  template <class T, class CompletionHandler>
  OutcomeCallback<T> completion(CompletionHandler handler) const {
    return detail::completion_for<T>(std::move(handler), executor());
  }

  // ---- Reads ----

  void read_values(std::vector<Entry*> entries, OutcomeCallback<std::vector<std::int64_t>> done) {
    ensure_warm(entries, [self = shared_from_this(), entries,
                          done = std::move(done)](Outcome<Done> warm) mutable {
      if (warm.error) return done({warm.error, std::move(warm.message), {}});
      std::vector<Entry*> stale;
      const std::int64_t oldest = now_ns() - std::chrono::nanoseconds(self->allowed_lag_).count();
      for (Entry* entry : entries) {
        if (entry->second.fetched_at.load(std::memory_order_acquire) < oldest)
          stale.push_back(entry);
      }
      if (stale.empty()) return done({{}, {}, views_of(entries)});
      self->post([self, stale = std::move(stale), entries = std::move(entries),
                  done = std::move(done)]() mutable {
        self->enqueue_refresh(std::move(stale), std::move(entries), std::move(done));
      });
    });
  }

  // ---- Immediate operations ----

  enum class Mode { set, del };

  void override(Mode mode, std::vector<ConditionalUpdate> updates,
                OutcomeCallback<std::vector<UpdateResult>> done) {
    if (updates.empty()) return done({{}, {}, {}});
    post([self = shared_from_this(), mode, updates = std::move(updates),
          done = std::move(done)]() mutable {
      auto shared_done =
          std::make_shared<OutcomeCallback<std::vector<UpdateResult>>>(std::move(done));
      self->enqueue(
          [self, mode, updates = std::move(updates), shared_done]() mutable {
            self->start_override(mode, std::move(updates), std::move(*shared_done));
          },
          [shared_done](error_code error) {
            (*shared_done)({error, {}, {}});
          },
          clock::now() + self->connection_->command_timeout());
    });
  }

  void clear(OutcomeCallback<Done> done) {
    post([self = shared_from_this(), done = std::move(done)]() mutable {
      auto shared_done = std::make_shared<OutcomeCallback<Done>>(std::move(done));
      self->enqueue([self, shared_done] { self->start_clear(std::move(*shared_done)); },
                    [shared_done](error_code error) {
                      (*shared_done)({error, {}, {}});
                    },
                    clock::now() + self->connection_->command_timeout());
    });
  }

  // ---- Flushing ----

  // Completes once everything accepted before the call is acknowledged, or
  // with the error that stopped it (the deltas stay buffered).
  void flush(clock::duration bound, OutcomeCallback<Done> done) {
    post([self = shared_from_this(), bound, done = std::move(done)]() mutable {
      auto shared_done = std::make_shared<OutcomeCallback<Done>>(std::move(done));
      self->enqueue([self, shared_done] { self->flush_next_chunk(std::move(*shared_done)); },
                    [shared_done](error_code error) {
                      (*shared_done)({error, {}, {}});
                    },
                    clock::now() + bound);
    });
  }

  // view - base - unacked - held: what increments added that Redis has not
  // been sent yet. Strand only.
  int128 pending_of(Entry& entry) const {
    const LaxSlot& slot = entry.second;
    int128 pending = int128{slot.view.load(std::memory_order_acquire)} - slot.base - slot.unacked;
    if (!held_.empty()) {
      if (auto it = held_.find(&entry); it != held_.end()) pending -= it->second;
    }
    return pending;
  }

  void hold(Entry& entry, int128 delta) {
    if (delta != 0) held_[&entry] += delta;
  }

  void unhold(Entry& entry, int128 delta) {
    if (delta == 0) return;
    auto it = held_.find(&entry);
    if ((it->second -= delta) == 0) held_.erase(it);
  }

  // Stops the flusher and reports what could not be delivered.
  void shut_down() {
    std::promise<void> stopped;
    auto wait = stopped.get_future();
    post([self = shared_from_this(), &stopped] {
      self->closed_ = true;
      self->flush_timer_.cancel();
      self->retry_timer_.cancel();
      self->lane_timer_.cancel();
      self->lane_.close(make_error_code(Errc::closed));
      int128 undelivered = 0;
      std::size_t keys = 0;
      self->slots_.for_each([&](Entry& entry) {
        const int128 delta = self->pending_of(entry) + entry.second.unacked;
        if (delta != 0) {
          undelivered += delta;
          ++keys;
        }
      });
      if (keys != 0) {
        detail::log(LogLevel::error, "LaxCounter " + self->hash_ + " destroyed with " +
                                         detail::to_decimal(undelivered) + " undelivered over " +
                                         std::to_string(keys) + " keys");
      }
      stopped.set_value();
    });
    wait.wait();
  }

  LaxCounterStats stats() {
    std::promise<LaxCounterStats> result;
    auto value = result.get_future();
    post([self = shared_from_this(), &result] {
      LaxCounterStats stats = self->stats_;
      int128 total = 0;
      self->slots_.for_each([&](Entry& entry) {
        const int128 delta = self->pending_of(entry) + entry.second.unacked;
        if (delta != 0) {
          total += delta;
          ++stats.pending_keys;
        }
      });
      stats.pending_total = saturate(total);
      result.set_value(std::move(stats));
    });
    return value.get();
  }

  std::chrono::milliseconds command_timeout() const { return connection_->command_timeout(); }

 private:
  // Counts down the entries a caller waits for; the caller holds one count
  // itself until it has registered them all.
  struct Join {
    explicit Join(OutcomeCallback<Done> callback) : done(std::move(callback)) {}
    void arrive(const Outcome<Done>& outcome) {
      if (outcome.error) {
        std::lock_guard lock(mutex);
        if (!first_error.error) first_error = outcome;
      }
      if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) done(std::move(first_error));
    }
    std::atomic<int> remaining{1};
    std::mutex mutex;
    Outcome<Done> first_error;
    OutcomeCallback<Done> done;
  };

  struct Chunk {
    std::uint64_t seq = 0;
    std::vector<std::pair<Entry*, std::int64_t>> deltas;
    detail::Request request;
    OutcomeCallback<Done> then;  // the flush waiting for this chunk
  };

  template <class Fn>
  void post(Fn&& fn) {
    asio::post(executor(), std::forward<Fn>(fn));
  }

  static std::vector<std::int64_t> views_of(const std::vector<Entry*>& entries) {
    std::vector<std::int64_t> values;
    values.reserve(entries.size());
    for (Entry* entry : entries)
      values.push_back(entry->second.view.load(std::memory_order_acquire));
    return values;
  }

  detail::Request read_request(const std::vector<Entry*>& entries) const {
    RequestBuilder builder("HMGET");
    builder.arg(hash_);
    for (Entry* entry : entries) builder.arg(entry->first);
    return builder.build();
  }

  // The values of an HMGET reply, in the order of `entries`; throws Error.
  std::vector<std::int64_t> read_reply(const std::vector<Entry*>& entries,
                                       const Reply& reply) const {
    detail::throw_if_error(reply, hash_, {});
    const auto& elements = detail::array_of(reply, entries.size());
    std::vector<std::int64_t> values;
    values.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      values.push_back(detail::field_value(elements[i], hash_, RedisKey(entries[i]->first)));
    }
    return values;
  }

  // First touch: no pending delta can exist yet, so this needs no lane.
  void fetch(std::vector<Entry*> entries) {
    auto request = read_request(entries);
    connection_->execute(
        std::move(request),
        [self = shared_from_this(), entries = std::move(entries)](error_code error, Reply reply) {
          Outcome<std::vector<std::int64_t>> outcome;
          if (error) {
            outcome = {error, {}, {}};
          } else {
            auto read = [&] { return self->read_reply(entries, reply); };
            outcome = attempt<std::vector<std::int64_t>>(read);
          }
          const std::int64_t now = now_ns();
          std::vector<std::shared_ptr<Join>> waiters;
          {
            std::lock_guard lock(self->fetch_mutex_);
            for (std::size_t i = 0; i < entries.size(); ++i) {
              LaxSlot& slot = entries[i]->second;
              if (!outcome.error) {
                slot.base = outcome.value[i];
                slot.view.store(outcome.value[i], std::memory_order_relaxed);
                slot.fetched_at.store(now, std::memory_order_relaxed);
              }
              slot.state.store(outcome.error ? LaxSlot::cold : LaxSlot::ready,
                               std::memory_order_release);
              auto node = self->fetch_waiters_.extract(entries[i]);
              waiters.insert(waiters.end(), node.mapped().begin(), node.mapped().end());
            }
          }
          const Outcome<Done> result{outcome.error, outcome.message, {}};
          for (auto& waiter : waiters) waiter->arrive(result);
        });
  }

  // ---- The lane (strand only) ----

  void enqueue(UniqueFunction<void()> start, UniqueFunction<void(error_code)> expire,
               clock::time_point deadline) {
    lane_.enqueue({std::move(start), std::move(expire), deadline});
    arm_lane_timer();
  }

  void job_finished() {
    lane_.finished();
    if (!dirty_empty()) arm_flush_timer();
  }

  // What a job that waited in vain behind a failing flush fails with.
  error_code blocked_error() const {
    return lane_.blocked() && stats_.last_error ? stats_.last_error
                                                : make_error_code(Errc::timeout);
  }

  // Fails jobs that waited past their deadline behind a busy or blocked
  // lane; follows the earliest deadline.
  void arm_lane_timer() {
    const auto earliest = lane_.next_deadline();
    if (!earliest || (lane_timer_armed_ && lane_deadline_ <= *earliest)) return;
    lane_timer_armed_ = true;
    lane_deadline_ = *earliest;
    lane_timer_.expires_at(*earliest);  // cancels a later wait, if any
    lane_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;  // re-armed earlier, or shut down
      self->lane_timer_armed_ = false;
      self->lane_.expire(clock::now());
      self->arm_lane_timer();
    });
  }

  // ---- Flush (strand only) ----

  void mark_dirty(Entry& entry) {
    LaxSlot& slot = entry.second;
    if (slot.dirty.load(std::memory_order_relaxed) || slot.dirty.exchange(true)) return;
    bool was_empty = false;
    {
      std::lock_guard lock(dirty_mutex_);
      was_empty = dirty_.empty();
      dirty_.push_back(&entry);
    }
    // Only the first dirty key after a flush wakes the flusher: an idle
    // counter has no timer running.
    if (was_empty) post([self = shared_from_this()] { self->arm_flush_timer(); });
  }

  bool dirty_empty() {
    std::lock_guard lock(dirty_mutex_);
    return dirty_.empty();
  }

  void arm_flush_timer() {
    if (closed_ || flush_timer_armed_) return;
    flush_timer_armed_ = true;
    flush_timer_.expires_after(allowed_lag_);
    flush_timer_.async_wait([self = shared_from_this()](error_code ec) {
      self->flush_timer_armed_ = false;
      if (ec || self->closed_ || self->flush_queued_) return;
      self->flush_queued_ = true;
      self->enqueue(
          [self] {
            self->flush_queued_ = false;
            self->flush_next_chunk({});
          },
          [](error_code) {}, clock::time_point::max());
    });
  }

  // Takes up to a chunk of dirty keys with a non-zero delta, each key once.
  std::vector<std::pair<Entry*, std::int64_t>> take_chunk() {
    std::vector<std::pair<Entry*, std::int64_t>> deltas;
    std::vector<Entry*> beyond_int64;  // the rest of their delta goes in a later chunk
    while (deltas.size() < flush_chunk_keys) {
      std::vector<Entry*> taken;
      {
        std::lock_guard lock(dirty_mutex_);
        const std::size_t count = std::min(dirty_.size(), flush_chunk_keys - deltas.size());
        if (count == 0) break;
        taken.assign(dirty_.end() - static_cast<std::ptrdiff_t>(count), dirty_.end());
        dirty_.resize(dirty_.size() - count);
      }
      for (Entry* entry : taken) {
        LaxSlot& slot = entry->second;
        // Cleared before reading the delta: an increment racing with us
        // marks the key again and is sent next time.
        slot.dirty.store(false, std::memory_order_seq_cst);
        const int128 pending = pending_of(*entry);
        if (pending == 0) continue;
        const std::int64_t delta = saturate(pending);
        if (delta != pending) beyond_int64.push_back(entry);
        slot.unacked += delta;
        deltas.emplace_back(entry, delta);
      }
    }
    for (Entry* entry : beyond_int64) mark_dirty(*entry);
    return deltas;
  }

  void flush_next_chunk(OutcomeCallback<Done> then) {
    auto deltas = take_chunk();
    if (deltas.empty()) {
      if (then) then({});
      return job_finished();
    }
    RequestBuilder builder(detail::lax_flush_script(), 2);
    builder.arg(hash_).arg(record_).arg(instance_id_);
    builder.arg(static_cast<std::int64_t>(++last_seq_)).arg(flush_record_ttl.count());
    for (auto& [entry, delta] : deltas) builder.arg(entry->first).arg(delta);
    chunk_ = Chunk{last_seq_, std::move(deltas), builder.build(), std::move(then)};
    send_chunk();
  }

  void send_chunk() {
    connection_->execute(chunk_->request,
                         [self = shared_from_this()](error_code error, Reply reply) {
                           self->on_chunk_reply(error, reply);
                         });
  }

  void on_chunk_reply(error_code error, const Reply& reply) {
    if (!chunk_) return;  // discarded by clear()
    std::string message;
    if (!error) {
      try {
        settle_chunk(reply);
      } catch (const Error& e) {
        error = e.code();
        message = e.what();
      }
    }
    if (!error) {
      ++stats_.flushes;
      auto then = std::move(chunk_->then);
      chunk_.reset();
      backoff_.reset();
      if (lane_.blocked()) {
        // A background retry succeeded: the lane may move again.
        lane_.unblock();
        if (!dirty_empty()) arm_flush_timer();
        return;
      }
      return flush_next_chunk(std::move(then));
    }
    if (message.empty()) message = Error(error).what();
    ++stats_.failed_flushes;
    stats_.last_error = error;
    stats_.last_error_message = message;
    if (!lane_.blocked()) {
      detail::log(LogLevel::warning, "LaxCounter " + hash_ + ": flush of " +
                                         std::to_string(chunk_->deltas.size()) +
                                         " keys failed, retrying: " + message);
      lane_.block();
      if (auto then = std::move(chunk_->then)) then({error, message, {}});
      job_finished();
    }
    if (closed_) return;
    retry_timer_.expires_after(backoff_.next());
    retry_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && self->chunk_ && !self->closed_) self->send_chunk();
    });
  }

  // Applies an acknowledged chunk: each applied delta moves from unacked
  // into base (also for a duplicate, which Redis had applied on an earlier
  // attempt); a rejected one is dropped from the view and reported.
  void settle_chunk(const Reply& reply) {
    detail::throw_if_error(reply, hash_, {});
    const auto& elements = detail::array_of(reply, 1 + chunk_->deltas.size());
    for (std::size_t i = 0; i < chunk_->deltas.size(); ++i) {
      auto [entry, delta] = chunk_->deltas[i];
      LaxSlot& slot = entry->second;
      slot.unacked -= delta;
      if (detail::flag(elements[1 + i])) {
        slot.base = saturate(int128{slot.base} + delta);
        continue;
      }
      shift_view(slot, -int128{delta});
      detail::log(LogLevel::error, "LaxCounter " + hash_ + ": dropped a delta of " +
                                       std::to_string(delta) + " for key '" +
                                       detail::printable(entry->first) +
                                       "': Redis rejected it (overflow or a non-integer value)");
    }
  }

  // ---- Refresh, override, clear (strand only, as lane jobs) ----

  void enqueue_refresh(std::vector<Entry*> stale, std::vector<Entry*> entries,
                       OutcomeCallback<std::vector<std::int64_t>> done) {
    auto shared_done =
        std::make_shared<OutcomeCallback<std::vector<std::int64_t>>>(std::move(done));
    enqueue(
        [self = shared_from_this(), stale = std::move(stale), entries = std::move(entries),
         shared_done]() mutable {
          auto request = self->read_request(stale);
          self->connection_->execute(std::move(request),
                                     [self, stale = std::move(stale), entries = std::move(entries),
                                      shared_done](error_code error, Reply reply) {
                                       auto finish = std::move(*shared_done);
                                       if (error) {
                                         finish({error, {}, {}});
                                         return self->job_finished();
                                       }
                                       auto apply = [&] {
                                         const auto values = self->read_reply(stale, reply);
                                         const std::int64_t now = now_ns();
                                         for (std::size_t i = 0; i < stale.size(); ++i) {
                                           LaxSlot& slot = stale[i]->second;
                                           shift_view(slot, int128{values[i]} - slot.base);
                                           slot.base = values[i];
                                           slot.fetched_at.store(now, std::memory_order_release);
                                         }
                                         return views_of(entries);
                                       };
                                       finish(attempt<std::vector<std::int64_t>>(apply));
                                       self->job_finished();
                                     });
        },
        [shared_done](error_code error) {
          (*shared_done)({error, {}, {}});
        },
        clock::now() + connection_->command_timeout());
  }

  // What an override does to one distinct key of the call.
  struct Target {
    Entry* entry = nullptr;   // null when this process has no warm slot
    int128 taken = 0;         // the pending delta it took over
    bool overridden = false;  // some entry of the call wrote the key
    std::int64_t final_value = 0;
  };

  void start_override(Mode mode, std::vector<ConditionalUpdate> updates,
                      OutcomeCallback<std::vector<UpdateResult>> done) {
    std::unordered_map<std::string_view, Target> targets;
    for (const auto& update : updates) {
      auto [it, inserted] = targets.try_emplace(update.key.str());
      if (!inserted) continue;
      Entry* entry = slots_.find(update.key.str());
      if (entry && entry->second.state.load(std::memory_order_acquire) == LaxSlot::ready) {
        it->second.entry = entry;
        it->second.taken = pending_of(*entry);
        hold(*entry, it->second.taken);
      }
    }
    RequestBuilder builder(detail::lax_override_script(), 1);
    builder.arg(hash_).arg(mode == Mode::set ? "set" : "del");
    for (const auto& update : updates) {
      builder.arg(update.key.str());
      if (mode == Mode::del) continue;
      // Redis holds the local view minus the pending delta taken, so that
      // is what the operand is compared against.
      const int128 operand = update.comparator.operand();
      builder.arg(detail::lua_operator(update.comparator.kind()))
          .arg(detail::to_decimal(operand - targets[update.key.str()].taken))
          .arg(update.comparator.operand())
          .arg(update.count);
    }
    connection_->execute(
        builder.build(), [self = shared_from_this(), mode, updates = std::move(updates),
                          targets = std::move(targets),
                          done = std::move(done)](error_code error, Reply reply) mutable {
          Outcome<std::vector<UpdateResult>> outcome;
          if (error) {
            outcome = {error, {}, {}};
          } else {
            auto settle = [&] { return self->settle_override(mode, updates, targets, reply); };
            outcome = attempt<std::vector<UpdateResult>>(settle);
          }
          if (outcome.error) self->release(targets);
          done(std::move(outcome));
          self->job_finished();
        });
  }

  std::vector<UpdateResult> settle_override(Mode mode,
                                            const std::vector<ConditionalUpdate>& updates,
                                            std::unordered_map<std::string_view, Target>& targets,
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
      const int128 previous = earlier ? int128{raw} : int128{raw} + target.taken;
      if (!detail::fits_int64(previous)) {
        throw Error(Errc::overflow, "the value of key '" + detail::printable(keys[i].str()) +
                                        "' including this process's pending delta leaves int64");
      }
      if (!earlier) target.final_value = raw;
      if (applied) {
        target.overridden = true;
        target.final_value = mode == Mode::set ? updates[i].count : 0;
      }
      const std::int64_t value =
          applied && mode == Mode::set ? updates[i].count : static_cast<std::int64_t>(previous);
      results.push_back({value, static_cast<std::int64_t>(previous), applied});
    }
    const std::int64_t now = now_ns();
    for (auto& [key, target] : targets) {
      if (!target.entry) continue;
      LaxSlot& slot = target.entry->second;
      // An override consumes the delta it took; otherwise that delta is
      // pending again and goes out with the next flush.
      shift_view(slot,
                 int128{target.final_value} - slot.base - (target.overridden ? target.taken : 0));
      slot.base = target.final_value;
      unhold(*target.entry, target.taken);
      slot.fetched_at.store(now, std::memory_order_release);
      if (!target.overridden && target.taken != 0) mark_dirty(*target.entry);
    }
    return results;
  }

  // An immediate operation failed: the deltas it took are pending again.
  void release(std::unordered_map<std::string_view, Target>& targets) {
    for (auto& [key, target] : targets) {
      if (!target.entry || target.taken == 0) continue;
      unhold(*target.entry, target.taken);
      mark_dirty(*target.entry);
    }
  }

  void start_clear(OutcomeCallback<Done> done) {
    std::unordered_map<std::string_view, Target> targets;
    slots_.for_each([&](Entry& entry) {
      if (entry.second.state.load(std::memory_order_acquire) != LaxSlot::ready) return;
      Target& target = targets[entry.first];
      target.entry = &entry;
      target.taken = pending_of(entry);
      hold(entry, target.taken);
    });
    connection_->execute(RequestBuilder("DEL").arg(hash_).arg(record_).build(),
                         [self = shared_from_this(), targets = std::move(targets),
                          done = std::move(done)](error_code error, Reply reply) mutable {
                           if (!error && reply.is_error()) error = make_error_code(Errc::redis);
                           if (error) {
                             self->release(targets);
                             done({error, reply.is_error() ? reply.text : Error(error).what(), {}});
                             return self->job_finished();
                           }
                           const std::int64_t now = now_ns();
                           for (auto& [key, target] : targets) {
                             LaxSlot& slot = target.entry->second;
                             shift_view(slot, -(int128{slot.base} + target.taken));
                             slot.base = 0;
                             self->unhold(*target.entry, target.taken);
                             slot.fetched_at.store(now, std::memory_order_release);
                           }
                           done({});
                           self->job_finished();
                         });
  }

  // Not the Client: the last reference to this Impl may go away in a
  // handler on the client's I/O thread, which must not destroy that thread.
  std::shared_ptr<detail::Connection> connection_;
  const std::chrono::milliseconds allowed_lag_;
  const std::string hash_;
  const std::string record_;
  const std::string instance_id_;

  detail::LaxSlotMap slots_;

  std::mutex dirty_mutex_;
  std::vector<Entry*> dirty_;

  std::mutex fetch_mutex_;
  std::unordered_map<Entry*, std::vector<std::shared_ptr<Join>>> fetch_waiters_;

  // Strand-only state.
  asio::steady_timer flush_timer_;
  asio::steady_timer retry_timer_;
  asio::steady_timer lane_timer_;
  detail::Backoff backoff_;
  detail::LaxLane lane_{[this] { return blocked_error(); }};
  std::optional<Chunk> chunk_;
  // The pending deltas immediate operations in flight took over, per key.
  std::unordered_map<Entry*, int128> held_;
  std::uint64_t last_seq_ = 0;
  LaxCounterStats stats_;
  bool flush_timer_armed_ = false;
  bool flush_queued_ = false;
  bool lane_timer_armed_ = false;
  clock::time_point lane_deadline_;
  bool closed_ = false;
};

std::shared_ptr<LaxCounter> LaxCounter::create(CounterOptions options) {
  if (!options.client) throw Error(Errc::invalid_argument, "CounterOptions::client is null");
  if (options.allowed_lag.count() <= 0) {
    throw Error(Errc::invalid_argument, "allowed_lag must be positive");
  }
  auto impl = std::make_shared<Impl>(options);
  return std::shared_ptr<LaxCounter>(new LaxCounter(std::move(options.client), std::move(impl)));
}

LaxCounter::LaxCounter(std::shared_ptr<Client> client, std::shared_ptr<Impl> impl)
    : client_(std::move(client)), impl_(std::move(impl)) {}

LaxCounter::~LaxCounter() {
  const auto bound = 2 * impl_->command_timeout();
  try {
    detail::wait_for<Done>(
        [&](OutcomeCallback<Done> done) { impl_->flush(bound, std::move(done)); });
  } catch (const Error&) {
    // shut_down() reports what stayed undelivered.
  }
  impl_->shut_down();
}

void LaxCounter::flush() {
  const auto bound = impl_->command_timeout();
  detail::wait_for<Done>([&](OutcomeCallback<Done> done) { impl_->flush(bound, std::move(done)); });
}

LaxCounterStats LaxCounter::stats() const {
  return impl_->stats();
}

std::int64_t LaxCounter::inc(const RedisKey& key, std::int64_t count) {
  if (Entry* entry = impl_->warm_entry(key)) return impl_->add(*entry, count);
  return detail::wait_for<std::int64_t>(
      [&](OutcomeCallback<std::int64_t> done) { impl_->inc_value(key, count, std::move(done)); });
}

std::int64_t LaxCounter::dec(const RedisKey& key, std::int64_t count) {
  if (Entry* entry = impl_->warm_entry(key)) return impl_->add(*entry, negated(count));
  return detail::wait_for<std::int64_t>([&](OutcomeCallback<std::int64_t> done) {
    impl_->inc_value(key, negated(count), std::move(done));
  });
}

UpdateResult LaxCounter::inc_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) {
  if (Entry* entry = impl_->warm_entry(key)) return impl_->add_if(*entry, cmp, count);
  return detail::wait_for<UpdateResult>([&](OutcomeCallback<UpdateResult> done) {
    impl_->inc_async(key, cmp, count, std::move(done));
  });
}

std::int64_t LaxCounter::get(const RedisKey& key) {
  return detail::wait_for<std::int64_t>(
      [&](OutcomeCallback<std::int64_t> done) { impl_->get(key, std::move(done)); });
}

std::vector<std::int64_t> LaxCounter::get_all(std::span<const RedisKey> keys) {
  if (keys.empty()) return {};
  return detail::wait_for<std::vector<std::int64_t>>(
      [&](OutcomeCallback<std::vector<std::int64_t>> done) {
        impl_->read_values(impl_->entries_of(keys), std::move(done));
      });
}

std::int64_t LaxCounter::set(const RedisKey& key, std::int64_t count) {
  return detail::wait_for<std::int64_t>(
      [&](OutcomeCallback<std::int64_t> done) { impl_->set(key, count, std::move(done)); });
}

std::int64_t LaxCounter::del(const RedisKey& key) {
  return detail::wait_for<std::int64_t>(
      [&](OutcomeCallback<std::int64_t> done) { impl_->del(key, std::move(done)); });
}

void LaxCounter::clear() {
  detail::wait_for<Done>([&](OutcomeCallback<Done> done) { impl_->clear(std::move(done)); });
}

UpdateResult LaxCounter::set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) {
  return detail::wait_for<UpdateResult>(
      [&](OutcomeCallback<UpdateResult> done) { impl_->set_if(key, cmp, count, std::move(done)); });
}

std::vector<std::int64_t> LaxCounter::inc_all(std::span<const KeyCount> updates) {
  return detail::wait_for<std::vector<std::int64_t>>(
      [&](OutcomeCallback<std::vector<std::int64_t>> done) {
        impl_->inc_all_values(unconditional(updates), std::move(done));
      });
}

std::vector<std::int64_t> LaxCounter::set_all(std::span<const KeyCount> updates) {
  return detail::wait_for<std::vector<std::int64_t>>(
      [&](OutcomeCallback<std::vector<std::int64_t>> done) {
        impl_->set_all_values(unconditional(updates), std::move(done));
      });
}

std::vector<UpdateResult> LaxCounter::inc_all_if(std::span<const ConditionalUpdate> updates) {
  return detail::wait_for<std::vector<UpdateResult>>(
      [&](OutcomeCallback<std::vector<UpdateResult>> done) {
        impl_->inc_all_async(copy(updates), std::move(done));
      });
}

std::vector<UpdateResult> LaxCounter::set_all_if(std::span<const ConditionalUpdate> updates) {
  return detail::wait_for<std::vector<UpdateResult>>(
      [&](OutcomeCallback<std::vector<UpdateResult>> done) {
        impl_->override(Impl::Mode::set, copy(updates), std::move(done));
      });
}

void LaxCounter::initiate_inc(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  impl_->inc_value(key, count, impl_->completion<std::int64_t>(std::move(handler)));
}
void LaxCounter::initiate_dec(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  impl_->inc_value(key, negated(count), impl_->completion<std::int64_t>(std::move(handler)));
}
void LaxCounter::initiate_get(RedisKey key, Handler<std::int64_t> handler) {
  impl_->get(key, impl_->completion<std::int64_t>(std::move(handler)));
}
void LaxCounter::initiate_set(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  impl_->set(key, count, impl_->completion<std::int64_t>(std::move(handler)));
}
void LaxCounter::initiate_del(RedisKey key, Handler<std::int64_t> handler) {
  impl_->del(key, impl_->completion<std::int64_t>(std::move(handler)));
}
void LaxCounter::initiate_clear(ClearHandler handler) {
  impl_->clear(impl_->completion<Done>(std::move(handler)));
}
void LaxCounter::initiate_inc_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                                 Handler<UpdateResult> handler) {
  impl_->inc_async(key, cmp, count, impl_->completion<UpdateResult>(std::move(handler)));
}
void LaxCounter::initiate_set_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                                 Handler<UpdateResult> handler) {
  impl_->set_if(key, cmp, count, impl_->completion<UpdateResult>(std::move(handler)));
}
void LaxCounter::initiate_get_all(std::vector<RedisKey> keys,
                                  Handler<std::vector<std::int64_t>> handler) {
  auto done = impl_->completion<std::vector<std::int64_t>>(std::move(handler));
  if (keys.empty()) return done({});
  impl_->read_values(impl_->entries_of(keys), std::move(done));
}
void LaxCounter::initiate_inc_all(std::vector<KeyCount> updates,
                                  Handler<std::vector<std::int64_t>> handler) {
  impl_->inc_all_values(unconditional(updates),
                        impl_->completion<std::vector<std::int64_t>>(std::move(handler)));
}
void LaxCounter::initiate_set_all(std::vector<KeyCount> updates,
                                  Handler<std::vector<std::int64_t>> handler) {
  impl_->set_all_values(unconditional(updates),
                        impl_->completion<std::vector<std::int64_t>>(std::move(handler)));
}
void LaxCounter::initiate_inc_all_if(std::vector<ConditionalUpdate> updates,
                                     Handler<std::vector<UpdateResult>> handler) {
  impl_->inc_all_async(std::move(updates),
                       impl_->completion<std::vector<UpdateResult>>(std::move(handler)));
}
void LaxCounter::initiate_set_all_if(std::vector<ConditionalUpdate> updates,
                                     Handler<std::vector<UpdateResult>> handler) {
  impl_->override(Impl::Mode::set, std::move(updates),
                  impl_->completion<std::vector<UpdateResult>>(std::move(handler)));
}

}  // namespace distkit
