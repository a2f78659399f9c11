// LaxCounter's implementation: what it adds on top of the LaxFlusher (its
// buffer, flusher and lane). Its parts live in separate files:
//   lax_counter.cpp    the public methods, increments
//   lax_reads.cpp      first touch of a key, stale-read refreshes
//   lax_overrides.cpp  set, set_if, set_all(_if), del, clear
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "counters/decimal.hpp"
#include "counters/lax_flusher.hpp"
#include "counters/operation.hpp"
#include "counters/shard_layout.hpp"
#include "distkit/lax_counter.hpp"

namespace distkit {

class LaxCounter::Impl : public std::enable_shared_from_this<Impl> {
 public:
  using clock = std::chrono::steady_clock;
  template <class T>
  using Callback = detail::OutcomeCallback<T>;
  using LaxSlot = detail::LaxSlot;
  using int128 = detail::int128;

  // How long a key stays settled and untouched before its slot is freed
  // (LaxFlusher's reclaim); read when a counter is created. Tests and
  // benchmarks shorten it.
  static inline std::atomic<std::chrono::milliseconds> idle_before_reclaim{
      std::chrono::seconds(60)};

  // `layout` is the counter's ShardLayout, already checked by create().
  Impl(const CounterOptions& options, detail::ShardLayout layout);

  detail::LaxFlusher& flusher() noexcept { return *flusher_; }
  const boost::asio::any_io_executor& executor() const noexcept { return flusher_->executor(); }
  std::chrono::milliseconds command_timeout() const noexcept {
    return flusher_->connection().command_timeout();
  }

  // True once the client was closed; every call then fails with
  // Errc::closed at once.
  bool client_closed() const noexcept { return flusher_->connection().closed(); }
  static Error closed_error();

  // Names the counter in messages: its hash, or "<hash> (N shards)".
  const std::string& name() const noexcept { return name_; }

  // The warm slot of `key`, or nullptr (also once the client is closed).
  LaxSlot* warm_slot(const RedisKey& key) const {
    return client_closed() ? nullptr : flusher_->warm(key.str());
  }

  // Runs a blocking call: Errc::closed at once on a closed client.
  template <class T, class Start>
  T blocking(Start start) {
    return detail::wait_unless_closed<T>(flusher_->connection(), &closed_error, std::move(start));
  }

  // The callback completing an async call's handler, always posted to its
  // executor; empty when the client is closed (the handler then has its
  // Errc::closed posted already) unless `needs_no_redis`.
  template <class T, class Handler>
  Callback<T> completion(Handler handler, bool needs_no_redis = false) const {
    if (needs_no_redis) return detail::completion_for<T>(std::move(handler), executor());
    return detail::completion_unless_closed<T>(std::move(handler), flusher_->connection(),
                                               &closed_error);
  }

  // ---- Increments (lax_counter.cpp) ----

  void inc_value(const RedisKey& key, int128 delta, Callback<std::int64_t> done);
  void inc_all_values(std::vector<ConditionalUpdate> updates,
                      Callback<std::vector<std::int64_t>> done);

  void inc_async(const RedisKey& key, CounterComparator cmp, int128 delta,
                 Callback<UpdateResult> done);
  void inc_all_async(std::vector<ConditionalUpdate> updates,
                     Callback<std::vector<UpdateResult>> done);
  // Applies `updates` in order; on overflow takes the earlier ones back
  // and throws.
  std::vector<UpdateResult> add_all(const std::vector<LaxSlot*>& slots,
                                    std::span<const ConditionalUpdate> updates);
  // The slots of `keys`, pinned; `unpinning` releases them.
  std::vector<LaxSlot*> slots_of(std::span<const RedisKey> keys);
  // `done`, unpinning `slots` after it ran.
  template <class T>
  static Callback<T> unpinning(const std::vector<LaxSlot*>& slots, Callback<T> done);

  // ---- Reads (lax_reads.cpp) ----

  // Makes every slot warm (one HMGET for those that are cold, shared with
  // concurrent first touches of the same keys), then calls `done`.
  void ensure_warm(const std::vector<LaxSlot*>& slots, Callback<detail::Done> done);
  // The views of `slots`, after refreshing those older than allowed_lag
  // (one HMGET shared by the stale reads that queue for it).
  void read_values(std::vector<LaxSlot*> slots, Callback<std::vector<std::int64_t>> done);

  // ---- Immediate operations (lax_overrides.cpp) ----

  // set: set_if/set_all_if, which report the value before (with the
  // pending delta), so it must be an int64; overwrite: set/set_all, which
  // report only what they stored and so never fail on the value before.
  enum class Mode { set, overwrite, del };
  void set_values(std::vector<ConditionalUpdate> updates, Callback<std::vector<std::int64_t>> done);
  void del(const RedisKey& key, Callback<std::int64_t> done);
  void override(Mode mode, std::vector<ConditionalUpdate> updates,
                Callback<std::vector<UpdateResult>> done);
  void clear(Callback<detail::Done> done);

 private:
  // Counts down the slots a caller waits for; the caller holds one count
  // itself until it has registered them all.
  struct Join {
    explicit Join(Callback<detail::Done> callback) : done(std::move(callback)) {}
    void arrive(const detail::Outcome<detail::Done>& outcome);
    std::atomic<int> remaining{1};
    std::mutex mutex;
    detail::Outcome<detail::Done> first_error;
    Callback<detail::Done> done;
  };

  // Stale reads waiting for one refresh (strand only).
  struct Refresh {
    std::int64_t opened_at = 0;  // lax_now_ns() when the first reader opened it
    std::vector<LaxSlot*> stale;
    std::unordered_set<LaxSlot*> included;
    std::vector<std::pair<std::vector<LaxSlot*>, Callback<std::vector<std::int64_t>>>> readers;
  };

  // What an override does to one distinct key of the call.
  struct Target {
    LaxSlot* slot = nullptr;  // null when this process has no warm slot
    int128 taken = 0;         // the pending delta it took over
    bool overridden = false;  // some entry of the call wrote the key
    std::int64_t final_value = 0;
  };
  using Targets = std::unordered_map<std::string_view, Target>;

  void fetch(std::vector<LaxSlot*> slots);
  // The Redis values of `slots`, in their order: one HMGET per shard.
  void read(const std::vector<LaxSlot*>& slots, Callback<std::vector<std::int64_t>> done);
  void join_refresh(std::vector<LaxSlot*> stale, std::vector<LaxSlot*> slots,
                    Callback<std::vector<std::int64_t>> done);
  void start_refresh(const std::shared_ptr<Refresh>& refresh);
  std::vector<std::int64_t> read_reply(const std::string& hash, const std::vector<LaxSlot*>& slots,
                                       const detail::Reply& reply) const;
  static std::vector<std::int64_t> views_of(const std::vector<LaxSlot*>& slots);

  // An override or clear is one Redis call per shard it touches; `done`
  // gets the results once every shard's call is answered, then the lane
  // moves on.
  void start_override(Mode mode, std::vector<ConditionalUpdate> updates,
                      Callback<std::vector<UpdateResult>> done);
  void override_shard(std::size_t shard, Mode mode, std::vector<ConditionalUpdate> updates,
                      Callback<std::vector<UpdateResult>> done);
  detail::Request overwrite_request(const std::string& hash,
                                    const std::vector<ConditionalUpdate>& updates) const;
  detail::Request override_request(const std::string& hash, Mode mode,
                                   const std::vector<ConditionalUpdate>& updates,
                                   Targets& targets) const;
  std::vector<UpdateResult> settle_overwrite(const std::string& hash,
                                             const std::vector<ConditionalUpdate>& updates,
                                             Targets& targets, const detail::Reply& reply);
  void apply(Targets& targets);
  std::vector<UpdateResult> settle_override(const std::string& hash, Mode mode,
                                            const std::vector<ConditionalUpdate>& updates,
                                            Targets& targets, const detail::Reply& reply);
  void release(Targets& targets);

  // Slots clear() handles per turn of the strand.
  static constexpr std::size_t clear_slice = 4096;
  struct ClearWalk;
  void start_clear(Callback<detail::Done> done);
  void take_for_clear(const std::shared_ptr<ClearWalk>& walk);
  void send_clear(const std::shared_ptr<ClearWalk>& walk);
  void settle_clear(const std::shared_ptr<ClearWalk>& walk);

  // Runs `start` as a lane job with the command timeout as its deadline,
  // failing `done` when it expires.
  template <class T, class Start>
  void enqueue_job(Callback<T> done, Start start);

  const detail::ShardLayout layout_;
  const std::string instance_;  // this counter instance's id, in its flush records' names
  const std::string name_;
  const std::shared_ptr<detail::LaxFlusher> flusher_;

  std::mutex fetch_mutex_;
  std::unordered_map<LaxSlot*, std::vector<std::shared_ptr<Join>>> fetch_waiters_;

  // Strand only: the refresh queued and not started.
  std::shared_ptr<Refresh> open_refresh_;
};

template <class T>
LaxCounter::Impl::Callback<T> LaxCounter::Impl::unpinning(const std::vector<LaxSlot*>& slots,
                                                          Callback<T> done) {
  return [slots, done = std::move(done)](detail::Outcome<T> outcome) mutable {
    done(std::move(outcome));
    for (LaxSlot* slot : slots) detail::LaxSlotMap::unpin(*slot);
  };
}

template <class T, class Start>
void LaxCounter::Impl::enqueue_job(Callback<T> done, Start start) {
  auto shared_done = std::make_shared<Callback<T>>(std::move(done));
  flusher_->enqueue(
      [shared_done, start = std::move(start)]() mutable { start(std::move(*shared_done)); },
      [shared_done](boost::system::error_code error) {
        (*shared_done)({error, {}, T{}});
      },
      clock::now() + command_timeout());
}

namespace detail {
// Tests and benchmarks look at a LaxCounter's flusher.
struct LaxCounterAccess {
  static LaxFlusher& flusher(LaxCounter& counter) { return counter.impl_->flusher(); }
  static std::atomic<std::chrono::milliseconds>& idle_before_reclaim() {
    return LaxCounter::Impl::idle_before_reclaim;
  }
};
}  // namespace detail

}  // namespace distkit
