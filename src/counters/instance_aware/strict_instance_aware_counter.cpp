#include "distkit/strict_instance_aware_counter.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/uuid/uuid_generators.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>

#include "client/client_access.hpp"
#include "counters/instance_aware/call_combiner.hpp"
#include "counters/instance_aware/instance_protocol.hpp"
#include "counters/instance_aware/strict_access.hpp"
#include "counters/operation.hpp"

namespace distkit {

namespace ia = detail::instance_aware;
using Results = std::vector<InstanceUpdateResult>;

namespace {

// A method call: the script call plus how to turn its per-entry results
// into the method's return type.
template <class T>
struct Plan {
  ia::Call call;
  std::function<T(Results)> finish;
  std::optional<T> immediate;  // an empty batch needs no round trip
};

}  // namespace

// Runs Plans, blocking or async, and the heartbeat. A call may take a few
// attempts: the script answers instead of acting when it must first
// remove dead instances or learn the current set of instances.
class StrictInstanceAwareCounter::Impl : public std::enable_shared_from_this<Impl> {
 public:
  // Attempts before a call gives up: each one that does not act removes dead
  // instances or learns instances that joined meanwhile.
  static constexpr int max_attempts = 16;

  Impl(const InstanceAwareCounterOptions& options, ia::Kind kind,
       std::shared_ptr<detail::Connection> connection)
      : connection_(std::move(connection)),
        layout_(options.prefix, kind),
        instance_id_(boost::uuids::to_string(boost::uuids::random_generator()())),
        threshold_(options.dead_instance_threshold),
        heartbeat_period_(std::max(std::chrono::milliseconds(1), threshold_ / 3)),
        heartbeat_timer_(connection_->executor()) {}

  const std::string& instance_id() const noexcept { return instance_id_; }

  template <class T>
  T call(Plan<T> plan) {
    if (plan.immediate) return std::move(*plan.immediate);
    return detail::wait_for<T>([&](detail::OutcomeCallback<T> done) {
      run(std::move(plan.call), finishing(std::move(plan.finish), std::move(done)));
    });
  }

  template <class T, class Handler>
  void start(Plan<T> plan, Handler handler) {
    auto done = detail::completion_for<T>(std::move(handler), connection_->executor());
    if (plan.immediate) return done({{}, {}, std::move(*plan.immediate)});
    run(std::move(plan.call), finishing(std::move(plan.finish), std::move(done)));
  }

  // Starts the heartbeat loop on the connection's strand.
  void start_heartbeat() {
    boost::asio::post(connection_->executor(), [self = shared_from_this()] { self->beat(); });
  }

  // Runs `call` (through group commit when it can be combined).
  void run(ia::Call call, detail::OutcomeCallback<Results> done) {
    auto running = std::make_shared<Running>();
    running->call = std::move(call);
    running->done = std::move(done);
    if (ia::needs_others(running->call)) {
      std::lock_guard lock(others_mutex_);
      running->attempt.others = others_;
    }
    if (!combinable(running->call)) return attempt(std::move(running));
    const std::size_t entries = running->call.entries.size();
    send_group(combiner_.submit(std::move(running), entries));
  }

  // Stops the heartbeat; the last reference may then go on the strand.
  void stop_heartbeat() {
    boost::asio::post(connection_->executor(), [self = shared_from_this()] {
      self->stopped_ = true;
      self->heartbeat_timer_.cancel();
    });
  }

 private:
  struct Running {
    ia::Call call;
    ia::Attempt attempt;
    detail::OutcomeCallback<Results> done;
    int attempts = 0;
  };

  template <class T>
  static detail::OutcomeCallback<Results> finishing(std::function<T(Results)> finish,
                                                    detail::OutcomeCallback<T> done) {
    return [finish = std::move(finish),
            done = std::move(done)](detail::Outcome<Results> outcome) mutable {
      if (outcome.error) return done({outcome.error, std::move(outcome.message), T{}});
      done({{}, {}, finish(std::move(outcome.value))});
    };
  }

  // Calls that touch only this instance's slices and the cumulatives; a
  // global write declares every instance and goes alone.
  static bool combinable(const ia::Call& call) {
    return call.script == ia::Script::update && !call.entries.empty() && !ia::needs_others(call);
  }

  // Runs a group of calls as one script invocation, then the next group.
  void send_group(std::vector<std::shared_ptr<Running>> group) {
    if (group.empty()) return;
    if (group.size() == 1) {
      auto& only = group.front();
      only->done = [self = shared_from_this(),
                    done = std::move(only->done)](detail::Outcome<Results> outcome) mutable {
        done(std::move(outcome));
        self->send_group(self->combiner_.finished());
      };
      return attempt(std::move(only));
    }
    auto combined = std::make_shared<Running>();
    for (const auto& call : group) {
      combined->call.entries.insert(combined->call.entries.end(), call->call.entries.begin(),
                                    call->call.entries.end());
      combined->call.want_previous = combined->call.want_previous || call->call.want_previous;
    }
    combined->done = [self = shared_from_this(),
                      group = std::move(group)](detail::Outcome<Results> outcome) mutable {
      self->split(std::move(group), std::move(outcome));
      self->send_group(self->combiner_.finished());
    };
    attempt(std::move(combined));
  }

  // Hands each call of a group its results. When the group failed because of
  // one call's data (overflow, a non-integer), Redis undid the whole group:
  // every call then runs alone and gets its own outcome.
  void split(std::vector<std::shared_ptr<Running>> group, detail::Outcome<Results> outcome) {
    if (outcome.error == Errc::overflow || outcome.error == Errc::redis) {
      for (auto& call : group) attempt(std::move(call));
      return;
    }
    std::size_t offset = 0;
    for (auto& call : group) {
      if (outcome.error) {
        call->done({outcome.error, outcome.message, {}});
        continue;
      }
      const auto first = outcome.value.begin() + static_cast<std::ptrdiff_t>(offset);
      offset += call->call.entries.size();
      call->done(
          {{}, {}, Results(first, outcome.value.begin() + static_cast<std::ptrdiff_t>(offset))});
    }
  }

  void attempt(std::shared_ptr<Running> running) {
    detail::Request request =
        ia::make_request(running->call, running->attempt, layout_, instance_id_, threshold_);
    detail::submit<ia::Verdict>(
        *connection_, std::move(request),
        [running, layout = &layout_](const detail::Reply& reply) {
          return ia::parse_reply(running->call, *layout, reply);
        },
        [self = shared_from_this(), running](detail::Outcome<ia::Verdict> outcome) mutable {
          self->advance(std::move(running), std::move(outcome));
        });
  }

  void advance(std::shared_ptr<Running> running, detail::Outcome<ia::Verdict> outcome) {
    if (outcome.error) return running->done({outcome.error, std::move(outcome.message), {}});
    ia::Verdict& verdict = outcome.value;
    switch (verdict.kind) {
      case ia::Verdict::Kind::done:
        return running->done({{}, {}, std::move(verdict.results)});
      case ia::Verdict::Kind::dead:
        running->attempt.dead = std::move(verdict.ids);
        break;
      case ia::Verdict::Kind::instances: {
        std::lock_guard lock(others_mutex_);
        others_ = verdict.ids;
        running->attempt.others = std::move(verdict.ids);
        running->attempt.dead.clear();
        break;
      }
      case ia::Verdict::Kind::removing:
        // Each such attempt removed up to 1,000 of this instance's own
        // slices: it progresses, so it does not count against max_attempts.
        return attempt(std::move(running));
    }
    if (++running->attempts >= max_attempts) {
      return running->done(
          {make_error_code(Errc::redis),
           "the instances of " + layout_.instances + " kept changing; the call was not made",
           {}});
    }
    attempt(std::move(running));
  }

  // One heartbeat (which also removes dead instances), then the next.
  void beat() {
    if (stopped_) return;
    run(ia::Call{}, [weak = weak_from_this()](detail::Outcome<Results>) {
      // A failed heartbeat is retried at the next period.
      if (auto self = weak.lock()) self->schedule_beat();
    });
  }

  void schedule_beat() {
    if (stopped_) return;
    heartbeat_timer_.expires_after(heartbeat_period_);
    heartbeat_timer_.async_wait([weak = weak_from_this()](boost::system::error_code error) {
      if (error) return;
      if (auto self = weak.lock()) self->beat();
    });
  }

  std::shared_ptr<detail::Connection> connection_;
  ia::Layout layout_;
  std::string instance_id_;
  std::chrono::milliseconds threshold_;
  std::chrono::milliseconds heartbeat_period_;
  boost::asio::steady_timer heartbeat_timer_;  // used on the connection's strand only
  bool stopped_ = false;                       // ditto
  // Two groups in flight keep Redis busy while the next group gathers.
  ia::CallCombiner<std::shared_ptr<Running>> combiner_{2, 1024};
  std::mutex others_mutex_;
  std::vector<std::string> others_;  // the other instances, as last learnt
};

namespace {

ia::Entry entry(ia::Mode mode, RedisKey key, std::int64_t count,
                CounterComparator comparator = CounterComparator::nil()) {
  return {mode, std::move(key), comparator, count};
}

Plan<Results> plan_of(std::vector<ia::Entry> entries, bool want_previous) {
  Plan<Results> plan;
  plan.finish = [](Results results) { return results; };
  if (entries.empty()) {
    plan.immediate = Results{};
    return plan;
  }
  plan.call.entries = std::move(entries);
  plan.call.want_previous = want_previous;
  return plan;
}

template <class Finish>
auto mapped(Plan<Results> plan, Finish finish) {
  using T = std::invoke_result_t<Finish, Results>;
  Plan<T> out;
  out.call = std::move(plan.call);
  out.finish = finish;
  if (plan.immediate) out.immediate = finish(std::move(*plan.immediate));
  return out;
}

Plan<std::vector<InstanceCount>> counts(Plan<Results> plan) {
  return mapped(std::move(plan), [](Results results) {
    std::vector<InstanceCount> values;
    values.reserve(results.size());
    for (const InstanceUpdateResult& result : results) values.push_back(result.value);
    return values;
  });
}

Plan<InstanceCount> last_count(Plan<Results> plan) {
  return mapped(std::move(plan), [](Results results) { return results.back().value; });
}

Plan<InstanceUpdateResult> first_result(Plan<Results> plan) {
  return mapped(std::move(plan), [](Results results) { return results.front(); });
}

Plan<InstanceCount> one(ia::Mode mode, RedisKey key, std::int64_t count = 0) {
  std::vector<ia::Entry> entries;
  entries.push_back(entry(mode, std::move(key), count));
  return last_count(plan_of(std::move(entries), false));
}

Plan<InstanceUpdateResult> conditional(ia::Mode mode, RedisKey key, CounterComparator comparator,
                                       std::int64_t count) {
  std::vector<ia::Entry> entries;
  entries.push_back(entry(mode, std::move(key), count, comparator));
  return first_result(plan_of(std::move(entries), true));
}

Plan<Results> batch(ia::Mode mode, std::span<const KeyCount> updates) {
  std::vector<ia::Entry> entries;
  entries.reserve(updates.size());
  for (const KeyCount& update : updates) entries.push_back(entry(mode, update.key, update.count));
  return plan_of(std::move(entries), false);
}

Plan<Results> conditional_batch(ia::Mode mode, std::span<const ConditionalUpdate> updates) {
  std::vector<ia::Entry> entries;
  entries.reserve(updates.size());
  for (const ConditionalUpdate& update : updates) {
    entries.push_back(entry(mode, update.key, update.count, update.comparator));
  }
  return plan_of(std::move(entries), true);
}

// -INT64_MIN does not exist: dec(key, INT64_MIN) adds INT64_MAX, then 1, in
// one script call.
Plan<InstanceCount> decrement(RedisKey key, std::int64_t count) {
  if (count != std::numeric_limits<std::int64_t>::min()) {
    return one(ia::Mode::inc, std::move(key), -count);
  }
  std::vector<ia::Entry> entries;
  entries.push_back(entry(ia::Mode::inc, key, std::numeric_limits<std::int64_t>::max()));
  entries.push_back(entry(ia::Mode::inc, std::move(key), 1));
  return last_count(plan_of(std::move(entries), false));
}

// del returns what the key had: the values before.
Plan<InstanceCount> global_del(RedisKey key) {
  std::vector<ia::Entry> entries;
  entries.push_back(entry(ia::Mode::del, std::move(key), 0));
  return mapped(plan_of(std::move(entries), false),
                [](Results results) { return results.front().previous; });
}

Plan<detail::Done> whole(ia::Script script) {
  Plan<detail::Done> plan;
  plan.call.script = script;
  plan.finish = [](Results) { return detail::Done{}; };
  return plan;
}

}  // namespace

void ia::StrictAccess::run(StrictInstanceAwareCounter& counter, Call call,
                           detail::OutcomeCallback<Results> done) {
  counter.impl_->run(std::move(call), std::move(done));
}

std::shared_ptr<StrictInstanceAwareCounter> StrictInstanceAwareCounter::create(
    InstanceAwareCounterOptions options) {
  return ia::StrictAccess::create(std::move(options), ia::Kind::strict);
}

std::shared_ptr<StrictInstanceAwareCounter> ia::StrictAccess::create(
    InstanceAwareCounterOptions options, Kind kind) {
  if (!options.client) {
    throw Error(Errc::invalid_argument, "InstanceAwareCounterOptions::client is null");
  }
  if (options.dead_instance_threshold <= std::chrono::milliseconds::zero()) {
    throw Error(Errc::invalid_argument,
                "InstanceAwareCounterOptions::dead_instance_threshold must be positive");
  }
  detail::ClientAccess::require_hash_tag(
      *options.client, options.prefix.str(),
      "an instance-aware counter on Redis Cluster needs a hash tag in its prefix, so that its "
      "keys share one slot: use e.g. '{" +
          options.prefix.str() + "}' instead of '" + options.prefix.str() + "'");
  auto impl = std::make_shared<StrictInstanceAwareCounter::Impl>(
      options, kind, detail::ClientAccess::connection(*options.client));
  impl->start_heartbeat();
  return std::shared_ptr<StrictInstanceAwareCounter>(
      new StrictInstanceAwareCounter(std::move(options.client), std::move(impl)));
}

StrictInstanceAwareCounter::StrictInstanceAwareCounter(std::shared_ptr<Client> client,
                                                       std::shared_ptr<Impl> impl)
    : client_(std::move(client)), impl_(std::move(impl)) {}

StrictInstanceAwareCounter::~StrictInstanceAwareCounter() {
  impl_->stop_heartbeat();
}

const std::string& StrictInstanceAwareCounter::instance_id() const noexcept {
  return impl_->instance_id();
}

InstanceCount StrictInstanceAwareCounter::inc(const RedisKey& key, std::int64_t count) {
  return impl_->call(one(ia::Mode::inc, key, count));
}
InstanceCount StrictInstanceAwareCounter::dec(const RedisKey& key, std::int64_t count) {
  return impl_->call(decrement(key, count));
}
InstanceCount StrictInstanceAwareCounter::get(const RedisKey& key) {
  return impl_->call(one(ia::Mode::get, key));
}
InstanceCount StrictInstanceAwareCounter::set(const RedisKey& key, std::int64_t count) {
  return impl_->call(one(ia::Mode::set, key, count));
}
InstanceCount StrictInstanceAwareCounter::set_on_instance(const RedisKey& key, std::int64_t count) {
  return impl_->call(one(ia::Mode::set_on_instance, key, count));
}
InstanceCount StrictInstanceAwareCounter::del(const RedisKey& key) {
  return impl_->call(global_del(key));
}
InstanceCount StrictInstanceAwareCounter::del_on_instance(const RedisKey& key) {
  return impl_->call(one(ia::Mode::del_on_instance, key));
}
void StrictInstanceAwareCounter::clear() {
  impl_->call(whole(ia::Script::clear));
}
void StrictInstanceAwareCounter::clear_on_instance() {
  impl_->call(whole(ia::Script::clear_on_instance));
}
InstanceUpdateResult StrictInstanceAwareCounter::inc_if(const RedisKey& key, CounterComparator cmp,
                                                        std::int64_t count) {
  return impl_->call(conditional(ia::Mode::inc, key, cmp, count));
}
InstanceUpdateResult StrictInstanceAwareCounter::set_if(const RedisKey& key, CounterComparator cmp,
                                                        std::int64_t count) {
  return impl_->call(conditional(ia::Mode::set, key, cmp, count));
}
InstanceUpdateResult StrictInstanceAwareCounter::set_on_instance_if(const RedisKey& key,
                                                                    CounterComparator cmp,
                                                                    std::int64_t count) {
  return impl_->call(conditional(ia::Mode::set_on_instance, key, cmp, count));
}
std::vector<InstanceCount> StrictInstanceAwareCounter::get_all(std::span<const RedisKey> keys) {
  std::vector<ia::Entry> entries;
  entries.reserve(keys.size());
  for (const RedisKey& key : keys) entries.push_back(entry(ia::Mode::get, key, 0));
  return impl_->call(counts(plan_of(std::move(entries), false)));
}
std::vector<InstanceCount> StrictInstanceAwareCounter::inc_all(std::span<const KeyCount> updates) {
  return impl_->call(counts(batch(ia::Mode::inc, updates)));
}
std::vector<InstanceCount> StrictInstanceAwareCounter::set_all(std::span<const KeyCount> updates) {
  return impl_->call(counts(batch(ia::Mode::set, updates)));
}
std::vector<InstanceCount> StrictInstanceAwareCounter::set_all_on_instance(
    std::span<const KeyCount> updates) {
  return impl_->call(counts(batch(ia::Mode::set_on_instance, updates)));
}
std::vector<InstanceUpdateResult> StrictInstanceAwareCounter::inc_all_if(
    std::span<const ConditionalUpdate> updates) {
  return impl_->call(conditional_batch(ia::Mode::inc, updates));
}
std::vector<InstanceUpdateResult> StrictInstanceAwareCounter::set_all_if(
    std::span<const ConditionalUpdate> updates) {
  return impl_->call(conditional_batch(ia::Mode::set, updates));
}
std::vector<InstanceUpdateResult> StrictInstanceAwareCounter::set_all_on_instance_if(
    std::span<const ConditionalUpdate> updates) {
  return impl_->call(conditional_batch(ia::Mode::set_on_instance, updates));
}

void StrictInstanceAwareCounter::initiate_inc(RedisKey key, std::int64_t count,
                                              Handler<InstanceCount> handler) {
  impl_->start(one(ia::Mode::inc, std::move(key), count), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_dec(RedisKey key, std::int64_t count,
                                              Handler<InstanceCount> handler) {
  impl_->start(decrement(std::move(key), count), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_get(RedisKey key, Handler<InstanceCount> handler) {
  impl_->start(one(ia::Mode::get, std::move(key)), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_set(RedisKey key, std::int64_t count,
                                              Handler<InstanceCount> handler) {
  impl_->start(one(ia::Mode::set, std::move(key), count), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_set_on_instance(RedisKey key, std::int64_t count,
                                                          Handler<InstanceCount> handler) {
  impl_->start(one(ia::Mode::set_on_instance, std::move(key), count), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_del(RedisKey key, Handler<InstanceCount> handler) {
  impl_->start(global_del(std::move(key)), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_del_on_instance(RedisKey key,
                                                          Handler<InstanceCount> handler) {
  impl_->start(one(ia::Mode::del_on_instance, std::move(key)), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_clear(ClearHandler handler) {
  impl_->start(whole(ia::Script::clear), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_clear_on_instance(ClearHandler handler) {
  impl_->start(whole(ia::Script::clear_on_instance), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_inc_if(RedisKey key, CounterComparator cmp,
                                                 std::int64_t count,
                                                 Handler<InstanceUpdateResult> handler) {
  impl_->start(conditional(ia::Mode::inc, std::move(key), cmp, count), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_set_if(RedisKey key, CounterComparator cmp,
                                                 std::int64_t count,
                                                 Handler<InstanceUpdateResult> handler) {
  impl_->start(conditional(ia::Mode::set, std::move(key), cmp, count), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_set_on_instance_if(
    RedisKey key, CounterComparator cmp, std::int64_t count,
    Handler<InstanceUpdateResult> handler) {
  impl_->start(conditional(ia::Mode::set_on_instance, std::move(key), cmp, count),
               std::move(handler));
}
void StrictInstanceAwareCounter::initiate_get_all(std::vector<RedisKey> keys,
                                                  Handler<std::vector<InstanceCount>> handler) {
  std::vector<ia::Entry> entries;
  entries.reserve(keys.size());
  for (RedisKey& key : keys) entries.push_back(entry(ia::Mode::get, std::move(key), 0));
  impl_->start(counts(plan_of(std::move(entries), false)), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_inc_all(std::vector<KeyCount> updates,
                                                  Handler<std::vector<InstanceCount>> handler) {
  impl_->start(counts(batch(ia::Mode::inc, updates)), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_set_all(std::vector<KeyCount> updates,
                                                  Handler<std::vector<InstanceCount>> handler) {
  impl_->start(counts(batch(ia::Mode::set, updates)), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_set_all_on_instance(
    std::vector<KeyCount> updates, Handler<std::vector<InstanceCount>> handler) {
  impl_->start(counts(batch(ia::Mode::set_on_instance, updates)), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_inc_all_if(
    std::vector<ConditionalUpdate> updates, Handler<std::vector<InstanceUpdateResult>> handler) {
  impl_->start(conditional_batch(ia::Mode::inc, updates), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_set_all_if(
    std::vector<ConditionalUpdate> updates, Handler<std::vector<InstanceUpdateResult>> handler) {
  impl_->start(conditional_batch(ia::Mode::set, updates), std::move(handler));
}
void StrictInstanceAwareCounter::initiate_set_all_on_instance_if(
    std::vector<ConditionalUpdate> updates, Handler<std::vector<InstanceUpdateResult>> handler) {
  impl_->start(conditional_batch(ia::Mode::set_on_instance, updates), std::move(handler));
}

}  // namespace distkit
