#include "counters/lax_slot_map.hpp"

#include <mutex>

namespace distkit::detail {

LaxSlotMap::Entry* LaxSlotMap::find(std::string_view key) const {
  const HashedKey hashed_key = hashed(key);
  Shard& shard = shard_of(hashed_key);
  std::shared_lock lock(shard.mutex);
  auto it = shard.slots.find(hashed_key);
  return it == shard.slots.end() ? nullptr : &*it;
}

LaxSlotMap::Entry* LaxSlotMap::find_or_create(std::string_view key) {
  const HashedKey hashed_key = hashed(key);
  Shard& shard = shard_of(hashed_key);
  {
    std::shared_lock lock(shard.mutex);
    auto it = shard.slots.find(hashed_key);
    if (it != shard.slots.end()) return &*it;
  }
  std::unique_lock lock(shard.mutex);
  return &*shard.slots.try_emplace(std::string(key)).first;
}

void LaxSlotMap::for_each(const std::function<void(Entry&)>& visit) const {
  for (std::size_t i = 0; i < shard_count; ++i) {
    std::shared_lock lock(shards_[i].mutex);
    for (auto& entry : shards_[i].slots) visit(entry);
  }
}

std::size_t LaxSlotMap::size() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < shard_count; ++i) {
    std::shared_lock lock(shards_[i].mutex);
    total += shards_[i].slots.size();
  }
  return total;
}

}  // namespace distkit::detail
