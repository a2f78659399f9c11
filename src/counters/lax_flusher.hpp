// The reusable core of a buffered ("lax") counter: the in-process buffer of
// pending deltas, the flusher that sends them to Redis exactly once, and the
// lane that orders flushes with the owner's own Redis work.
//
// lax_flusher.cpp holds the buffer, the lane, flush scheduling, stats and
// shutdown; lax_flush_rounds.cpp a flush round's chunks and replies;
// lax_reclaim.cpp the reclaim of idle keys.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/backoff.hpp"
#include "client/connection.hpp"
#include "client/reply.hpp"
#include "counters/decimal.hpp"
#include "counters/lax_dirty_queue.hpp"
#include "counters/lax_lane.hpp"
#include "counters/lax_slot_map.hpp"
#include "counters/operation.hpp"
#include "distkit/comparator.hpp"
#include "distkit/counter.hpp"
#include "distkit/lax_counter.hpp"

namespace distkit::detail {

// One key's share of a flush chunk.
struct LaxDelta {
  LaxSlot* slot;
  std::int64_t delta;  // non-zero
};

// How one counter lays a flush chunk out in Redis: the parameter that makes
// LaxFlusher reusable (LaxCounter's plain hash; an instance-aware counter's
// per-instance slice plus cumulative total).
//
// A layout may have several shards (a sharded LaxCounter: one hash per
// shard, each in its own Redis Cluster slot). A chunk then holds deltas of
// one shard only, and each shard is a flush stream of its own: its own
// record and its own chunk numbers 1, 2, ... . Everything below holds per
// shard.
//
// The contract a layout's script must keep, which is what makes flushes
// exactly once with several chunks in flight: each instance has a record in
// Redis holding the number of its last applied chunk, and chunk `seq` is
//  - applied, with the record set to seq, when the record is below seq and
//    either `oldest` is set or the record is exactly seq - 1;
//  - a duplicate (nothing written) when the record is at or above seq;
//  - a gap (nothing written) otherwise: an earlier chunk is missing, and
//    the flusher resends it before this one.
// `oldest` is set only when every earlier chunk is known to be applied, so
// a missing or expired record then means "apply". Records must expire on
// their own (a TTL well above any retry), so that gone instances leave none.
// Within a chunk the keys are distinct. A delta Redis can never take (the
// field holds a non-integer, or the sum leaves int64) is set aside where it
// stays retrievable, and the chunk still applies; any other Redis error
// must leave the chunk unapplied, so that the flusher retries it.
class LaxFlushLayout {
 public:
  enum class Outcome { applied, duplicate, gap };
  struct ChunkReply {
    Outcome outcome = Outcome::applied;
    // Indexes (into the chunk's deltas) of the deltas set aside.
    std::vector<std::size_t> set_aside;
  };

  virtual ~LaxFlushLayout() = default;
  // How many shards; shard_of() says which one a key's deltas go to.
  virtual std::size_t shards() const { return 1; }
  virtual std::size_t shard_of(const LaxSlot& /*slot*/) const { return 0; }
  // The request applying `deltas` (all of `shard`) as chunk `seq` of this
  // instance's stream for that shard.
  virtual Request chunk_request(std::size_t shard, std::uint64_t seq, bool oldest,
                                std::span<const LaxDelta> deltas) const = 0;
  // Decodes the reply to a chunk of `size` deltas of `shard`. Throws Error
  // when Redis refused the chunk as a whole (nothing applied; the flusher
  // retries it).
  virtual ChunkReply chunk_reply(std::size_t shard, const Reply& reply, std::size_t size) const = 0;
  // Where set-aside deltas of `shard` go, for log messages.
  virtual std::string set_aside_location(std::size_t shard) const = 0;
  // Names the counter in log messages.
  virtual const std::string& name() const = 0;
};

// Decodes the reply of a chunk script that answers as lax_flush.lua does:
// {"applied", i...} (the 1-based indexes of set-aside deltas), {"duplicate"}
// or {"gap"}. Throws Error for an error reply (naming `name`) or any other.
LaxFlushLayout::ChunkReply decode_chunk_reply(const Reply& reply, std::size_t size,
                                              const std::string& name);

// The buffer, the flusher and the lane of a buffered counter.
//
// Buffer (any thread): one LaxSlot per key in a LaxSlotMap. add()/add_if()
// change a slot's view with one CAS and put the key in the dirty queue if it
// is not there already (LaxDirtyQueue: no lock). When the flusher sleeps
// (nothing was pending at the end of its last flush) that first key also
// posts one wake-up to the connection's executor.
//
// Flusher (strand): every allowed_lag after the previous flush ended, while
// keys are pending, a flush takes a snapshot: exactly the keys queued at its
// start, oldest first. It sends them in chunks of `chunk_keys` through the
// layout (with several shards: each key's delta waits in its shard's
// staging until that shard has a full chunk or the snapshot is all taken),
// up to `window` chunks in flight, and ends when every chunk it
// sent is answered; keys queued meanwhile wait for the next flush, so a
// flush always ends and no key waits more than about two flush periods
// plus one flush. A chunk that fails (no reply, a Redis error) ends the
// flush with that error and blocks the lane: the unsettled chunks are
// resent in order, with their numbers, with backoff, until Redis has them;
// then the lane moves again.
//
// Lane (strand): flushes and the owner's jobs (enqueue()) run one at a time
// in order. So while an owner's job runs no delta of this instance is in an
// unknown state in Redis, and a job waits behind at most one flush.
//
// Reclaim (strand, once reclaim_idle_keys() turned it on): a key the strand
// saw last busy (touch(): fetched, flushed, refreshed, overridden) at least
// `idle` ago (at most 2 x `idle`: a key used again while queued is looked at
// again an idle period after the queue reached it) and settled (nothing pending or in flight, no
// pin) is freed in three reclaim passes, lane jobs of at most reclaim_batch keys each: the first
// marks the slot retiring (readers then take the slow path, which revives it), the second, once
// every LaxSection that could have missed the mark has ended, unlinks it from the map if it is
// still settled, and the third, once every section that could still hold it has ended, frees it
// (and returns free memory to the system).
//
// Thread-safe except where marked "strand only".
class LaxFlusher : public std::enable_shared_from_this<LaxFlusher> {
 public:
  using clock = std::chrono::steady_clock;

  // Keys per chunk: one script call of about a millisecond of Redis time.
  static constexpr std::size_t chunk_keys = 1000;
  // Chunks in flight at once: keeps Redis busy while the next is built.
  static constexpr std::size_t window = 4;
  // Keys a reclaim pass handles per step (about 10 ms of strand time).
  static constexpr std::size_t reclaim_batch = 16384;
  // The pause between reclaim passes while keys are on their way out.
  static constexpr std::chrono::milliseconds reclaim_step_pause{20};

  LaxFlusher(std::shared_ptr<Connection> connection, std::chrono::milliseconds allowed_lag,
             std::unique_ptr<LaxFlushLayout> layout);
  // Slots release() did not free (the client ended first and dropped its
  // queued work) are freed on a short-lived thread of their own when they
  // are many, so that no destructor waits for that.
  ~LaxFlusher();

  // ---- Any thread ----

  // Turns on the reclaim of keys idle for `idle`; call before any other
  // use. Without it slots live as long as the flusher.
  void reclaim_idle_keys(std::chrono::milliseconds idle) noexcept { reclaim_idle_ = idle; }

  LaxSlotMap& slots() noexcept { return slots_; }
  Connection& connection() const noexcept { return *connection_; }
  const boost::asio::any_io_executor& executor() const noexcept { return connection_->executor(); }
  std::chrono::milliseconds allowed_lag() const noexcept { return allowed_lag_; }

  // The slot of `key` when its Redis value is known, else nullptr.
  LaxSlot* warm(std::string_view key) const;

  // Adds `step` to the view and returns the new view; Errc::overflow (and
  // nothing changed) when it would leave int64. The hot path.
  std::int64_t add(LaxSlot& slot, std::int64_t step);
  // Adds `delta` when `cmp` matches the view; Errc::overflow as add().
  UpdateResult add_if(LaxSlot& slot, CounterComparator cmp, int128 delta);
  // Takes back an earlier add of `delta` (the key is flushed again, so a
  // flush that already sent the delta is corrected).
  void take_back(LaxSlot& slot, int128 delta);
  // Queues the key for the next flush unless it is queued already.
  void mark_dirty(LaxSlot& slot);
  // Moves the view by `delta`, clamped to int64.
  static void shift_view(LaxSlot& slot, int128 delta);
  static std::int64_t saturate(int128 value);

  // Completes once every delta added before the call is acknowledged, or
  // with the error that stopped it (the deltas stay buffered), or with
  // Errc::timeout when the flush has not started within `bound`.
  void flush(clock::duration bound, OutcomeCallback<Done> done);

  // Flush counters plus pending keys and total (from a walk of the slots in
  // the calling thread, not on the strand). Blocks for a strand round trip.
  LaxCounterStats stats();

  // What is not acknowledged by Redis: keys with a delta and their sum,
  // from a walk of the slots in the calling thread that stops at
  // `deadline` (complete == false then).
  struct Pending {
    std::size_t keys = 0;
    int128 total = 0;
    bool complete = true;
  };
  Pending pending(clock::time_point deadline = clock::time_point::max()) const;

  // Sends `request` on the connection. Every request that reads or writes
  // slots goes through here, so release() knows when none is in flight.
  void execute(Request request, ReplyCallback done);

  // Frees the slots after shut_down(), a few thousand per turn of the
  // strand once no request is in flight, keeping `owner` (whose callbacks
  // may touch slots) alive until then. Returns at once.
  void release(std::shared_ptr<void> owner);

  // Stops the flusher: no more chunks are sent or retried and queued jobs
  // fail with Errc::closed. Blocks until the strand has done so.
  void shut_down();

  // An owner's destructor: flushes what is pending (unless the client is
  // closed), shuts down and logs what stayed undelivered, naming the
  // counter `what`; all within `bound`. Call release() afterwards.
  void drain(clock::duration bound, const std::string& what);

  // ---- Strand only ----

  // Queues a job on the lane; `expire` runs instead of `start` when the job
  // is still waiting at `deadline` or the flusher shuts down.
  void enqueue(UniqueFunction<void()> start, UniqueFunction<void(boost::system::error_code)> expire,
               clock::time_point deadline);
  // The running job is done.
  void job_finished();
  bool stopped() const noexcept { return stopped_; }

  // The strand saw the key busy: its reclaim waits another idle period.
  void touch(LaxSlot& slot);

  // view - base - unacked - held: what was added and not yet sent.
  int128 pending_of(const LaxSlot& slot) const;
  // Marks `delta` of the slot as taken by a job in flight (an override).
  void hold(LaxSlot& slot, int128 delta);
  void unhold(LaxSlot& slot, int128 delta);

 private:
  struct Chunk {
    std::size_t shard = 0;
    std::uint64_t seq = 0;
    std::vector<LaxDelta> deltas;
  };

  void wake();
  void arm_flush_timer();
  void after_flush();
  void arm_lane_timer();
  boost::system::error_code blocked_error() const;

  void start_flush(OutcomeCallback<Done> done);
  void pump();
  Chunk take_chunk(bool& stalled);
  void unstage();
  bool first_of_shard(const Chunk& chunk) const;
  void send(Chunk& chunk);
  void on_reply(std::size_t shard, std::uint64_t seq, boost::system::error_code error,
                const Reply& reply);
  void settle(const Chunk& chunk, const LaxFlushLayout::ChunkReply& reply);
  void finish_if_settled();
  void schedule_retry();
  void fail(boost::system::error_code error, std::string message);
  static void release_step(std::shared_ptr<LaxFlusher> self, std::shared_ptr<void> owner);

  void arm_reclaim_timer(clock::duration after);
  void reclaim_pass();
  void free_limbo();
  void unlink_retiring();
  void retire_idle(std::int64_t now);
  bool settled(const LaxSlot& slot) const;

  const std::shared_ptr<Connection> connection_;
  const std::chrono::milliseconds allowed_lag_;
  const std::unique_ptr<LaxFlushLayout> layout_;

  LaxSlotMap slots_;
  LaxDirtyQueue dirty_;
  // Set when the flusher found nothing pending: the next key queued wakes it.
  std::atomic<bool> sleeping_{true};
  std::atomic<std::size_t> requests_in_flight_{0};

  // ---- Strand-only state ----
  std::uint64_t popped_ = 0;  // keys taken out of dirty_
  boost::asio::steady_timer flush_timer_;
  boost::asio::steady_timer reclaim_timer_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer lane_timer_;
  Backoff backoff_;
  LaxLane lane_;
  std::unordered_map<const LaxSlot*, int128> held_;
  LaxCounterStats stats_;
  bool flush_timer_armed_ = false;
  bool flush_queued_ = false;
  bool lane_timer_armed_ = false;
  clock::time_point lane_deadline_;
  bool stopped_ = false;

  // The flush in progress, or the retry of a failed one.
  std::vector<std::uint64_t> last_seq_;  // per shard
  // Per shard: deltas taken from the queue, not yet in a chunk.
  std::vector<std::vector<LaxDelta>> staged_;
  std::size_t staged_deltas_ = 0;
  std::deque<Chunk> unsettled_;  // sent, not yet applied; in seq order
  std::size_t in_flight_ = 0;
  std::uint64_t to_take_ = 0;  // keys of the running flush's snapshot not taken yet
  bool flush_running_ = false;
  bool retrying_ = false;
  bool round_failed_ = false;
  bool pump_posted_ = false;
  OutcomeCallback<Done> flush_done_;

  // Reclaim (see the class comment); reclaim_idle_ is 0 when off.
  std::chrono::milliseconds reclaim_idle_{0};
  std::deque<std::pair<LaxSlot*, std::int64_t>> idle_;  // (slot, lax_now_ns() queued)
  std::vector<LaxSlot*> retiring_;
  std::uint64_t retiring_epoch_ = 0;
  std::vector<LaxSlotMap::Node> limbo_;
  std::uint64_t limbo_epoch_ = 0;
  bool reclaim_armed_ = false;
  bool reclaim_queued_ = false;
  std::size_t freed_since_trim_ = 0;
};

}  // namespace distkit::detail

namespace distkit {
// steady_clock nanoseconds, the unit of LaxSlot::fetched_at and of the idle queue.
std::int64_t lax_now_ns();
}  // namespace distkit
