#include "counters/lax_slot_map.hpp"

#include <array>
#include <atomic>
#include <mutex>

#include "counters/lax_epoch.hpp"

namespace distkit::detail {
namespace {

struct CachedEntry {
  std::uint64_t map_id = 0;
  // The LaxSection epoch the entry was found in: a slot unlinked later is
  // freed only after that epoch passed, and the entry is stale by then.
  std::uint64_t epoch = 0;
  std::size_t hash = 0;
  LaxSlot* slot = nullptr;
};

// Direct-mapped by hash: a hot key stays in its line until another hot key
// of the same thread collides with it.
constexpr std::size_t cache_lines = 64;
// initial-exec: a plain offset from the thread pointer instead of a call to
// __tls_get_addr, which a position-independent build would use otherwise.
thread_local std::array<CachedEntry, cache_lines> entry_cache
    __attribute__((tls_model("initial-exec")));

std::atomic<std::uint64_t> next_map_id{1};

}  // namespace

LaxSlotMap::LaxSlotMap() : id_(next_map_id.fetch_add(1, std::memory_order_relaxed)) {}

LaxSlot* LaxSlotMap::find(std::string_view key) const {
  const HashedKey hashed_key = hashed(key);
  const std::uint64_t epoch = lax_epoch();
  CachedEntry& cached = entry_cache[hashed_key.hash % cache_lines];
  if (cached.map_id == id_ && cached.epoch == epoch && cached.hash == hashed_key.hash &&
      *cached.slot->key == key) {
    return cached.slot;
  }
  LaxSlot* slot = find_in_shard(hashed_key);
  if (slot != nullptr) cached = {id_, epoch, hashed_key.hash, slot};
  return slot;
}

LaxSlot* LaxSlotMap::find_uncached(std::string_view key) const {
  return find_in_shard(hashed(key));
}

LaxSlot* LaxSlotMap::find_in_shard(const HashedKey& key) const {
  Shard& shard = shard_of(key);
  std::shared_lock lock(shard.mutex);
  auto it = shard.slots.find(key);
  return it == shard.slots.end() ? nullptr : &it->second;
}

LaxSlot* LaxSlotMap::find_or_create(std::string_view key) {
  return find_or_create(hashed(key), 0);
}

LaxSlot* LaxSlotMap::pin_or_create(std::string_view key) {
  return find_or_create(hashed(key), 1);
}

LaxSlot* LaxSlotMap::find_or_create(const HashedKey& key, std::uint32_t pins) {
  Shard& shard = shard_of(key);
  {
    std::shared_lock lock(shard.mutex);
    auto it = shard.slots.find(key);
    if (it != shard.slots.end()) {
      if (pins != 0) it->second.pins.fetch_add(pins, std::memory_order_relaxed);
      return &it->second;
    }
  }
  std::unique_lock lock(shard.mutex);
  auto [it, inserted] = shard.slots.try_emplace(std::string(key.text));
  if (inserted) it->second.key = &it->first;
  if (pins != 0) it->second.pins.fetch_add(pins, std::memory_order_relaxed);
  return &it->second;
}

void LaxSlotMap::collect(std::size_t shard, std::vector<LaxSlot*>& out) const {
  std::shared_lock lock(shards_[shard].mutex);
  out.reserve(out.size() + shards_[shard].slots.size());
  for (auto& entry : shards_[shard].slots) out.push_back(&entry.second);
}

bool LaxSlotMap::for_each(const std::function<bool(LaxSlot&)>& visit) const {
  for (std::size_t i = 0; i < shard_count; ++i) {
    std::shared_lock lock(shards_[i].mutex);
    for (auto& entry : shards_[i].slots) {
      if (!visit(entry.second)) return false;
    }
  }
  return true;
}

std::size_t LaxSlotMap::size() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < shard_count; ++i) {
    std::shared_lock lock(shards_[i].mutex);
    total += shards_[i].slots.size();
  }
  return total;
}

bool LaxSlotMap::erase_some(std::size_t count) {
  for (std::size_t i = 0; i < shard_count; ++i) {
    std::unique_lock lock(shards_[i].mutex);
    auto& slots = shards_[i].slots;
    while (count > 0 && !slots.empty()) {
      slots.erase(slots.begin());
      --count;
    }
    if (!slots.empty()) return false;
    if (count == 0 && i + 1 < shard_count) return false;
  }
  return true;
}

}  // namespace distkit::detail
