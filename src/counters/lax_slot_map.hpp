// The LaxCounter's in-process state: one stable slot per key.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "counters/lax_dirty_queue.hpp"

namespace distkit::detail {

// One key's local state. `view` is what reads and increments see:
//   view = base + unacked + held + pending
// where base is the last value read from Redis, unacked the delta sent in
// flushes not yet acknowledged, held the deltas taken by immediate
// operations in flight (kept by the flusher, as few keys have any), and
// pending what increments added since. pending is implicit: increments only
// touch `view`, so the hot path is a single atomic CAS. base, unacked and
// held change only on the connection's strand; base is atomic so that
// stats() can read it from any thread.
//
// Lifetime: a slot is freed only by LaxFlusher's reclaim of idle keys (and
// with its map). Lock-free readers (the warm path) hold a LaxSection; code
// that keeps a slot across I/O or outside the strand's lane holds a pin.
struct LaxSlot : LaxDirtyNode {
  // retiring: being reclaimed; a reader that finds it takes the slow path,
  // which pins the slot and makes it ready again.
  enum State : std::uint8_t { cold, fetching, ready, retiring };

  std::atomic<std::int64_t> view{0};
  // steady_clock nanoseconds of the Redis read `base` came from.
  std::atomic<std::int64_t> fetched_at{0};
  std::atomic<std::int64_t> base{0};
  // Free for the owning counter: LaxInstanceAwareCounter keeps the other
  // instances' share of the key here (cumulative - slice, as last read).
  std::atomic<std::int64_t> others{0};
  std::int64_t unacked = 0;
  std::atomic<std::uint8_t> state{cold};
  // Set while the slot is in the flusher's dirty queue.
  std::atomic<bool> dirty{false};
  // Strand only: whether the slot waits in the flusher's idle queue, and
  // whether the strand saw it busy again since it was queued. Flags rather
  // than a timestamp keep the slot at 64 bytes, so that a map node with a
  // key fits a 112-byte heap chunk instead of a 128-byte one.
  bool idle_queued = false;
  bool touched_again = false;
  // Holders outside the lane (see Lifetime); changed under a shard lock
  // when taken, released anywhere.
  std::atomic<std::uint32_t> pins{0};
  // The key; points into the map's node, which never moves.
  const std::string* key = nullptr;
};
static_assert(sizeof(void*) != 8 || sizeof(LaxSlot) <= 64,
              "LaxSlot grew: every 16 bytes past 64 cost a million-key counter 16 MB");

// A concurrent map from key to LaxSlot. Slots never move; they disappear
// only through unlink_if_idle(), so callers keep plain pointers to them as
// LaxSlot's Lifetime says. find() first tries a small per-thread cache of
// recently found entries (no lock, no shared write), valid for one epoch of
// LaxSection; a miss takes one of 64 shard locks in shared mode.
class LaxSlotMap {
 private:
  // The lookup key carries its hash so that it is computed once for both
  // the shard choice and the bucket.
  struct HashedKey {
    std::string_view text;
    std::size_t hash;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const HashedKey& key) const noexcept { return key.hash; }
    std::size_t operator()(const std::string& key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(const std::string& a, const std::string& b) const noexcept { return a == b; }
    bool operator()(const HashedKey& a, const std::string& b) const noexcept { return a.text == b; }
    bool operator()(const std::string& a, const HashedKey& b) const noexcept { return a == b.text; }
  };
  using Slots = std::unordered_map<std::string, LaxSlot, Hash, Equal>;

 public:
  static constexpr std::size_t shard_count = 64;
  // An unlinked slot with its key; destroying it frees them.
  using Node = Slots::node_type;

  LaxSlotMap();

  // The slot of `key`, or nullptr. Inside a LaxSection when slots of this
  // map may be reclaimed.
  LaxSlot* find(std::string_view key) const;
  // The slot of `key`, or nullptr, without the cache (no section needed).
  LaxSlot* find_uncached(std::string_view key) const;
  // The slot of `key`, created cold when missing.
  LaxSlot* find_or_create(std::string_view key);
  // find_or_create() that also pins the slot; the caller unpins it.
  LaxSlot* pin_or_create(std::string_view key);
  static void unpin(LaxSlot& slot) noexcept { slot.pins.fetch_sub(1, std::memory_order_release); }
  // Takes `slot` out of the map when nobody pins it and `idle(slot)` holds,
  // both checked under its shard's lock (so no pin can come meanwhile);
  // else an empty node. Shrinks the shard's buckets once mostly empty.
  template <class Idle>
  Node unlink_if_idle(LaxSlot& slot, Idle idle);
  // Appends the slots of shard `shard`, as of one moment.
  void collect(std::size_t shard, std::vector<LaxSlot*>& out) const;
  // Calls `visit` for every slot (shards locked one at a time in shared
  // mode; slots created meanwhile may be missed) until it returns false;
  // returns whether every slot was visited.
  bool for_each(const std::function<bool(LaxSlot&)>& visit) const;
  std::size_t size() const;
  // Frees up to `count` slots; returns whether the map is empty then. Only
  // when nothing uses the slots any more.
  bool erase_some(std::size_t count);

 private:
  struct alignas(64) Shard {
    mutable std::shared_mutex mutex;
    Slots slots;
  };

  static HashedKey hashed(std::string_view key) noexcept {
    return {key, std::hash<std::string_view>{}(key)};
  }
  Shard& shard_of(const HashedKey& key) const noexcept {
    // The low bits pick the bucket inside the shard; use high ones here.
    return shards_[(key.hash >> 58) % shard_count];
  }

  LaxSlot* find_in_shard(const HashedKey& key) const;
  LaxSlot* find_or_create(const HashedKey& key, std::uint32_t pins);

  // Distinguishes maps in the per-thread caches; never reused, so a cached
  // entry of a destroyed map can never be mistaken for one of this map.
  const std::uint64_t id_;
  std::unique_ptr<Shard[]> shards_ = std::make_unique<Shard[]>(shard_count);
};

template <class Idle>
LaxSlotMap::Node LaxSlotMap::unlink_if_idle(LaxSlot& slot, Idle idle) {
  const HashedKey key = hashed(*slot.key);
  Shard& shard = shard_of(key);
  std::unique_lock lock(shard.mutex);
  if (slot.pins.load(std::memory_order_acquire) != 0 || !idle(slot)) return {};
  auto it = shard.slots.find(key);
  Node node = shard.slots.extract(it);
  if (shard.slots.size() * 8 < shard.slots.bucket_count()) shard.slots.rehash(0);
  return node;
}

}  // namespace distkit::detail
