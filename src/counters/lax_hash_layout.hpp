// LaxCounter's Redis layout for flushes: one hash of counters, one flush
// record per counter instance and a list of set-aside deltas.
#pragma once

#include <chrono>
#include <string>

#include "counters/lax_flusher.hpp"
#include "distkit/redis_key.hpp"

namespace distkit::detail {

// `{<prefix>:lax_counter}:flushed:<instance>`: the number of the last flush
// chunk this instance applied (a string with its own TTL).
std::string lax_instance_record_key(const RedisKey& prefix, std::string_view instance);
// `{<prefix>:lax_counter}:set_aside`: a list of "<delta> <key>" entries,
// the deltas Redis could never take.
std::string lax_set_aside_key(const RedisKey& prefix);

// The flush of LaxCounter's hash `<prefix>:lax_counter` by lax_flush.lua.
class LaxHashLayout final : public LaxFlushLayout {
 public:
  // How long a record outlives its instance's last flush: far above any
  // retry (which comes within seconds while Redis answers at all), and
  // short enough that gone instances leave no trace for long.
  static constexpr std::chrono::milliseconds record_ttl = std::chrono::hours(1);

  LaxHashLayout(std::string hash, std::string record, std::string set_aside)
      : hash_(std::move(hash)), record_(std::move(record)), set_aside_(std::move(set_aside)) {}

  Request chunk_request(std::uint64_t seq, bool oldest,
                        std::span<const LaxDelta> deltas) const override;
  ChunkReply chunk_reply(const Reply& reply, std::size_t size) const override;
  std::string set_aside_location() const override { return set_aside_; }
  const std::string& name() const override { return hash_; }

 private:
  std::string hash_;
  std::string record_;
  std::string set_aside_;
};

}  // namespace distkit::detail
