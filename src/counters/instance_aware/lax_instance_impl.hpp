// LaxInstanceAwareCounter's implementation: LaxFlusher (buffer, exactly-once
// flusher, lane) with the instance-aware flush layout, plus a
// StrictInstanceAwareCounter for reads, immediate writes and heartbeats.
//   lax_instance_aware_counter.cpp  public methods, buffered increments
//   lax_instance_reads.cpp          warm-up and refresh of the local pairs
#pragma once

#include <boost/asio/post.hpp>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "counters/decimal.hpp"
#include "counters/instance_aware/lax_instance_layout.hpp"
#include "counters/instance_aware/strict_access.hpp"
#include "counters/lax_flusher.hpp"
#include "counters/operation.hpp"
#include "distkit/lax_instance_aware_counter.hpp"

namespace distkit {
namespace detail::instance_aware {

// A buffered increment: `delta` when `cmp` matches the cumulative.
struct LaxIncrement {
  RedisKey key;
  CounterComparator cmp;
  int128 delta;
};

}  // namespace detail::instance_aware

class LaxInstanceAwareCounter::Impl : public std::enable_shared_from_this<Impl> {
 public:
  using clock = std::chrono::steady_clock;
  template <class T>
  using Callback = detail::OutcomeCallback<T>;
  using LaxSlot = detail::LaxSlot;
  using int128 = detail::int128;
  using Results = std::vector<InstanceUpdateResult>;

  // `strict` must outlive every lane job (the owner shuts the flusher down
  // before destroying it); it runs on the lax layout, as every key here.
  Impl(const InstanceAwareCounterOptions& options, StrictInstanceAwareCounter& strict);

  detail::LaxFlusher& flusher() noexcept { return *flusher_; }
  const boost::asio::any_io_executor& executor() const noexcept { return flusher_->executor(); }
  std::chrono::milliseconds command_timeout() const noexcept {
    return flusher_->connection().command_timeout();
  }
  bool client_closed() const noexcept { return flusher_->connection().closed(); }
  const std::string& name() const noexcept { return flush_layout_.name(); }

  // The warm slot of `key`, or nullptr (also once the client is closed).
  LaxSlot* warm_slot(const RedisKey& key) const {
    return client_closed() ? nullptr : flusher_->warm(key.str());
  }

  // A blocking call, and the completion of an async one: Errc::closed at
  // once on a closed client.
  template <class T, class Start>
  T blocking(Start start) {
    return detail::wait_unless_closed<T>(flusher_->connection(), &closed_error, std::move(start));
  }
  template <class T, class Handler>
  Callback<T> completion(Handler handler) const {
    return detail::completion_unless_closed<T>(std::move(handler), flusher_->connection(),
                                               &closed_error);
  }

  // ---- Buffered increments (lax_instance_aware_counter.cpp) ----

  // Adds `step` to the slice; Errc::overflow (nothing changed) when the
  // slice or the estimate of the cumulative would leave int64. The hot
  // path: one CAS.
  InstanceCount add(LaxSlot& slot, std::int64_t step);
  // Adds `delta` to the slice when `cmp` matches the estimate of the
  // cumulative; Errc::overflow (nothing changed) when the slice or the
  // estimate would leave int64.
  InstanceUpdateResult add_if(LaxSlot& slot, CounterComparator cmp, int128 delta);
  // Warms the keys, then applies `updates` in order (all or none).
  void increments(std::vector<detail::instance_aware::LaxIncrement> updates,
                  Callback<Results> done);

  // ---- Reads (lax_instance_reads.cpp) ----

  // The pairs of `keys`: the last read plus the pending delta, read again
  // when older than allowed_lag (one strict get_all shared by the reads
  // waiting for the lane).
  void read(std::span<const RedisKey> keys, Callback<std::vector<InstanceCount>> done);
  // Makes every slot warm, then calls `done`.
  void warm(std::vector<LaxSlot*> slots, Callback<detail::Done> done);
  std::vector<LaxSlot*> slots_of(std::span<const RedisKey> keys);
  // Strand only: takes `after`, a pair just read from Redis (nothing of
  // this instance in flight), as the key's state; pending deltas stay.
  void settle_key(std::string_view key, InstanceCount after);
  void settle_slot(LaxSlot& slot, InstanceCount after);
  // After clear (`keep_others` false) or clear_on_instance (true): every
  // warm slice is 0, the other instances' shares are gone or kept.
  void settle_all(bool keep_others);
  // After clear: deletes this instance's flush record and the set-aside
  // list (sent before any later chunk; the next chunk then applies as the
  // oldest). Other instances' records expire on their own.
  void forget_flush_state();

  // ---- Immediate calls ----

  // Flushes what is pending, then runs the strict counter's `call` as a
  // lane job, and on success `settle(*this, value)` on the strand before
  // `done`, value being `transform(results)`. Errors keep their messages.
  template <class T, class Transform, class Settle>
  void immediate(detail::instance_aware::Call call, Transform transform, Settle settle,
                 Callback<T> done);

 private:
  Impl(const InstanceAwareCounterOptions& options, StrictInstanceAwareCounter& strict,
       std::unique_ptr<detail::instance_aware::LaxInstanceLayout> layout);

  // Reads waiting for one refresh (strand only).
  struct Refresh {
    std::vector<LaxSlot*> slots;
    std::unordered_set<LaxSlot*> included;
    std::vector<Callback<detail::Done>> readers;
  };

  static Error closed_error();
  // The message of a call that failed waiting for the lane with `error`.
  std::string lane_message(boost::system::error_code error) const;
  Error overflow_error(const LaxSlot& slot) const;
  bool fresh(const std::vector<LaxSlot*>& slots) const;
  void join_refresh(std::vector<LaxSlot*> slots, Callback<detail::Done> done);
  void start_refresh(const std::shared_ptr<Refresh>& refresh);

  StrictInstanceAwareCounter& strict_;
  // Owned by flusher_, which lives as long as this.
  const detail::instance_aware::LaxInstanceLayout& flush_layout_;
  const std::shared_ptr<detail::LaxFlusher> flusher_;
  std::shared_ptr<Refresh> open_refresh_;  // strand only: queued, not started
};

template <class T, class Transform, class Settle>
void LaxInstanceAwareCounter::Impl::immediate(detail::instance_aware::Call call,
                                              Transform transform, Settle settle,
                                              Callback<T> done) {
  // Posted after the flush's own post, so the job is queued behind it.
  flusher_->flush(command_timeout(), [](detail::Outcome<detail::Done>) {});
  boost::asio::post(executor(), [self = shared_from_this(), call = std::move(call), transform,
                                 settle = std::move(settle), done = std::move(done)]() mutable {
    auto shared_done = std::make_shared<Callback<T>>(std::move(done));
    self->flusher_->enqueue(
        [self, shared_done, call = std::move(call), transform,
         settle = std::move(settle)]() mutable {
          detail::instance_aware::StrictAccess::run(
              self->strict_, std::move(call),
              [self, shared_done, transform,
               settle = std::move(settle)](detail::Outcome<Results> outcome) mutable {
                if (outcome.error) {
                  (*shared_done)({outcome.error, std::move(outcome.message), T{}});
                } else {
                  T value = transform(std::move(outcome.value));
                  if (!self->flusher_->stopped()) settle(*self, value);
                  (*shared_done)({{}, {}, std::move(value)});
                }
                self->flusher_->job_finished();
              });
        },
        [self, shared_done](boost::system::error_code error) {
          (*shared_done)({error, self->lane_message(error), T{}});
        },
        clock::now() + self->command_timeout());
  });
}

}  // namespace distkit
