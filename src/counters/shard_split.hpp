// A batch of a sharded counter split per shard, and the shards' results
// put back together in input order.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "counters/operation.hpp"
#include "counters/shard_layout.hpp"

namespace distkit::detail {

// The entries of a batch that go to one shard: their positions in the
// batch, in input order (so a repeated key keeps its order too).
struct ShardPart {
  std::size_t shard = 0;
  std::vector<std::size_t> positions;
};

// Groups the positions 0..size-1 of a batch by the shard of key_of(i)
// (something convertible to std::string_view), parts in shard order. A
// batch whose keys all fall in one shard (always so with one shard) is one
// part holding every position in order.
template <class KeyOf>
std::vector<ShardPart> split_by_shard(const ShardLayout& layout, std::size_t size, KeyOf key_of) {
  if (layout.count() == 1) {
    ShardPart all;
    all.positions.resize(size);
    for (std::size_t i = 0; i < size; ++i) all.positions[i] = i;
    return {std::move(all)};
  }
  std::vector<std::vector<std::size_t>> by_shard(layout.count());
  for (std::size_t i = 0; i < size; ++i) {
    by_shard[layout.shard_of(std::string_view(key_of(i)))].push_back(i);
  }
  std::vector<ShardPart> parts;
  for (std::size_t shard = 0; shard < by_shard.size(); ++shard) {
    if (!by_shard[shard].empty()) parts.push_back({shard, std::move(by_shard[shard])});
  }
  return parts;
}

// The items at `positions`, moved out of `items` (all of them, without a
// copy, when the part is the whole batch).
template <class T>
std::vector<T> take_part(std::vector<T>& items, const std::vector<std::size_t>& positions) {
  if (positions.size() == items.size()) return std::move(items);
  std::vector<T> part;
  part.reserve(positions.size());
  for (std::size_t position : positions) part.push_back(std::move(items[position]));
  return part;
}

// One callback per part; `done` gets the parts' values in input order once
// every part has reported, or the error of the first failing part in shard
// order (the other parts' outcomes stand: each part is atomic on its own).
// Part i must report values for parts[i].positions, in that order. A single
// part reports to `done` directly. The callbacks may run on any threads.
template <class E>
std::vector<OutcomeCallback<std::vector<E>>> gather(const std::vector<ShardPart>& parts,
                                                    std::size_t size,
                                                    OutcomeCallback<std::vector<E>> done) {
  std::vector<OutcomeCallback<std::vector<E>>> callbacks;
  if (parts.size() == 1) {
    callbacks.push_back(std::move(done));
    return callbacks;
  }
  struct State {
    std::mutex mutex;
    std::size_t remaining;
    std::size_t failed_part;  // parts.size(): none yet
    Outcome<std::vector<E>> outcome;
    OutcomeCallback<std::vector<E>> done;
  };
  auto state = std::make_shared<State>();
  state->remaining = parts.size();
  state->failed_part = parts.size();
  state->outcome.value.resize(size);
  state->done = std::move(done);
  callbacks.reserve(parts.size());
  for (std::size_t part = 0; part < parts.size(); ++part) {
    callbacks.emplace_back(
        [state, part, positions = parts[part].positions](Outcome<std::vector<E>> outcome) mutable {
          std::unique_lock lock(state->mutex);
          if (outcome.error) {
            if (part < state->failed_part) {
              state->failed_part = part;
              state->outcome.error = outcome.error;
              state->outcome.message = std::move(outcome.message);
            }
          } else {
            for (std::size_t i = 0; i < positions.size(); ++i) {
              state->outcome.value[positions[i]] = std::move(outcome.value[i]);
            }
          }
          if (--state->remaining != 0) return;
          lock.unlock();
          if (state->outcome.error) state->outcome.value.clear();
          state->done(std::move(state->outcome));
        });
  }
  return callbacks;
}

}  // namespace distkit::detail
