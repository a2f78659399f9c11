// The LaxCounter's in-process state: one stable slot per key.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

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
struct LaxSlot : LaxDirtyNode {
  enum State : std::uint8_t { cold, fetching, ready };

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
  // The key; points into the map's node, which never moves.
  const std::string* key = nullptr;
};

// A concurrent map from key to LaxSlot. Slots never move or disappear while
// the map lives, so callers keep plain pointers to them. A lookup first
// tries a small per-thread cache of recently found entries (no lock, no
// shared write); a miss takes one of 64 shard locks in shared mode.
class LaxSlotMap {
 public:
  // The slot of `key`, or nullptr.
  LaxSlot* find(std::string_view key) const;
  // The slot of `key`, created cold when missing.
  LaxSlot* find_or_create(std::string_view key);
  // Calls `visit` for every slot (shards locked one at a time in shared
  // mode; slots created meanwhile may be missed) until it returns false;
  // returns whether every slot was visited.
  bool for_each(const std::function<bool(LaxSlot&)>& visit) const;
  std::size_t size() const;
  // Frees up to `count` slots; returns whether the map is empty then. Only
  // when nothing uses the slots any more.
  bool erase_some(std::size_t count);

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
  struct alignas(64) Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, LaxSlot, Hash, Equal> slots;
  };
  static constexpr std::size_t shard_count = 64;

  static HashedKey hashed(std::string_view key) noexcept {
    return {key, std::hash<std::string_view>{}(key)};
  }
  Shard& shard_of(const HashedKey& key) const noexcept {
    // The low bits pick the bucket inside the shard; use high ones here.
    return shards_[(key.hash >> 58) % shard_count];
  }

  LaxSlot* find_in_shard(const HashedKey& key) const;

  // Distinguishes maps in the per-thread caches; never reused, so a cached
  // entry of a destroyed map can never be mistaken for one of this map.
  const std::uint64_t id_;
  std::unique_ptr<Shard[]> shards_ = std::make_unique<Shard[]>(shard_count);

 public:
  LaxSlotMap();
};

}  // namespace distkit::detail
