#include "distkit/strict_counter.hpp"

#include <algorithm>
#include <functional>
#include <limits>

#include "client/client_access.hpp"
#include "client/request.hpp"
#include "counters/batch_limit.hpp"
#include "counters/counter_options.hpp"
#include "counters/decimal.hpp"
#include "counters/operation.hpp"
#include "counters/replies.hpp"
#include "counters/scripts.hpp"
#include "counters/shard_split.hpp"

namespace distkit {

using detail::Reply;
using detail::ReplyParser;
using detail::Request;
using detail::RequestBuilder;

// Every call becomes an Operation: the request and how to read its reply,
// or an outcome known without a round trip (an empty batch, a batch over
// the limit). A batch becomes one Operation per shard it touches (exactly
// one with a single shard), each atomic on its own. The blocking and async
// forms of each method share them.
//
// Each operation uses the cheapest exact form Redis offers (see the class
// comment in strict_counter.hpp); the scripts in src/counters/lua/ document
// their arguments and replies.
class StrictCounter::Impl {
 public:
  template <class T>
  struct Operation {
    std::optional<detail::Outcome<T>> immediate;
    Request request;
    ReplyParser<T> parse;
  };

  // A batch of `size` entries as one Operation per part: operations[i]
  // reports the values of parts[i].positions.
  template <class E>
  struct Batch {
    std::vector<detail::ShardPart> parts;
    std::vector<Operation<std::vector<E>>> operations;
    std::size_t size = 0;
  };

  enum class Mode { inc, set };

  const boost::asio::any_io_executor& executor() const { return connection_->executor(); }

  explicit Impl(CounterOptions options)
      : client_(std::move(options.client)),
        connection_(detail::ClientAccess::connection(*client_)),
        layout_(options.prefix, "strict_counter", options.shards) {}

  template <class T>
  T call(Operation<T> op) {
    if (op.immediate) return std::move(*op.immediate).value_or_throw();
    return detail::wait_for<T>([&](detail::OutcomeCallback<T> done) {
      detail::submit(*connection_, std::move(op.request), std::move(op.parse), std::move(done));
    });
  }

  template <class E>
  std::vector<E> call(Batch<E> batch) {
    if (batch.operations.size() == 1) return call(std::move(batch.operations.front()));
    return detail::wait_for<std::vector<E>>([&](detail::OutcomeCallback<std::vector<E>> done) {
      run(std::move(batch), std::move(done));
    });
  }

  template <class T, class Handler>
  void start(Operation<T> op, Handler handler) {
    const auto& io = connection_->executor();
    if (op.immediate) {
      return detail::completion_for<T>(std::move(handler), io)(std::move(*op.immediate));
    }
    detail::submit(*connection_, std::move(op.request), std::move(op.parse),
                   detail::reply_completion_for<T>(std::move(handler), io));
  }

  // A batch of several parts is never immediate (see sharded()): its
  // outcome comes with the last part's reply, as a single operation's.
  template <class E, class Handler>
  void start(Batch<E> batch, Handler handler) {
    if (batch.operations.size() == 1) {
      return start(std::move(batch.operations.front()), std::move(handler));
    }
    run(std::move(batch),
        detail::reply_completion_for<std::vector<E>>(std::move(handler), connection_->executor()));
  }

  template <class T>
  void run(Operation<T> op, detail::OutcomeCallback<T> done) {
    if (op.immediate) return done(std::move(*op.immediate));
    detail::submit(*connection_, std::move(op.request), std::move(op.parse), std::move(done));
  }

  // Sends every part; `done` gets the values in input order (see gather).
  template <class E>
  void run(Batch<E> batch, detail::OutcomeCallback<std::vector<E>> done) {
    auto callbacks = detail::gather<E>(batch.parts, batch.size, std::move(done));
    for (std::size_t i = 0; i < callbacks.size(); ++i) {
      run(std::move(batch.operations[i]), std::move(callbacks[i]));
    }
  }

  Operation<std::int64_t> get(RedisKey key) const {
    const std::string& hash = hash_of(key);
    return {{},
            RequestBuilder("HGET").key(hash).arg(key.str()).build(),
            [hash, key = std::move(key)](const Reply& reply) {
              detail::throw_if_command_error(reply, hash, key);
              return detail::field_value(reply, hash, key);
            }};
  }

  Batch<std::int64_t> get_all(std::vector<RedisKey> keys) const {
    return sharded<std::int64_t>("get_all", std::move(keys), &Impl::get_all_in);
  }

  Operation<std::vector<std::int64_t>> get_all_in(const std::string& hash,
                                                  std::vector<RedisKey> keys) const {
    RequestBuilder builder("HMGET");
    builder.key(hash);
    for (const RedisKey& key : keys) builder.arg(key.str());
    return {{}, builder.build(), [hash, keys = std::move(keys)](const Reply& reply) {
              detail::throw_if_error(reply, hash, {});
              const auto& elements = detail::array_of(reply, keys.size());
              std::vector<std::int64_t> values;
              values.reserve(keys.size());
              for (std::size_t i = 0; i < keys.size(); ++i) {
                values.push_back(detail::field_value(elements[i], hash, keys[i]));
              }
              return values;
            }};
  }

  // HINCRBY is the whole of an increment: its reply is the exact new value,
  // and it refuses overflow and a non-integer field without writing.
  Operation<std::int64_t> inc(RedisKey key, std::int64_t count) const {
    const std::string& hash = hash_of(key);
    return {{},
            RequestBuilder("HINCRBY").key(hash).arg(key.str()).arg(count).build(),
            [hash, key = std::move(key)](const Reply& reply) {
              detail::throw_if_command_error(reply, hash, key);
              if (reply.kind != Reply::Kind::integer) detail::unexpected_reply("an integer");
              return reply.integer;
            }};
  }

  // -INT64_MIN does not exist, so dec(key, INT64_MIN) runs a script that
  // adds INT64_MAX and 1 and returns the value before.
  Operation<std::int64_t> dec(RedisKey key, std::int64_t count) const {
    if (count != std::numeric_limits<std::int64_t>::min()) return inc(std::move(key), -count);
    const std::string& hash = hash_of(key);
    return {{},
            RequestBuilder(detail::strict_dec_min_script(), 1).arg(hash).arg(key.str()).build(),
            [hash, key = std::move(key)](const Reply& reply) {
              detail::throw_if_error(reply, hash, std::span(&key, 1));
              const std::int64_t before = detail::field_value(reply, hash, key);
              return exact_sum(
                  before, -static_cast<detail::int128>(std::numeric_limits<std::int64_t>::min()));
            }};
  }

  // One HSET of every pair: Redis applies them left to right, so a repeated
  // key ends with its last count, as sequential sets would.
  Batch<std::int64_t> set_all(std::vector<KeyCount> updates) const {
    return sharded<std::int64_t>("set_all", std::move(updates), &Impl::set_all_in);
  }

  Operation<std::vector<std::int64_t>> set_all_in(const std::string& hash,
                                                  std::vector<KeyCount> updates) const {
    RequestBuilder builder("HSET");
    builder.key(hash);
    std::vector<std::int64_t> counts;
    counts.reserve(updates.size());
    for (const KeyCount& update : updates) {
      builder.arg(update.key.str()).arg(update.count);
      counts.push_back(update.count);
    }
    return {{}, builder.build(), [hash, counts = std::move(counts)](const Reply& reply) {
              detail::throw_if_error(reply, hash, {});
              return counts;
            }};
  }

  Operation<std::int64_t> set(RedisKey key, std::int64_t count) const {
    const std::string& hash = hash_of(key);
    return {{},
            RequestBuilder("HSET").key(hash).arg(key.str()).arg(count).build(),
            [hash, key = std::move(key), count](const Reply& reply) {
              detail::throw_if_command_error(reply, hash, key);
              return count;
            }};
  }

  Batch<std::int64_t> inc_all(std::vector<KeyCount> updates) const {
    return sharded<std::int64_t>("inc_all", std::move(updates), &Impl::inc_all_in);
  }

  Operation<std::vector<std::int64_t>> inc_all_in(const std::string& hash,
                                                  std::vector<KeyCount> updates) const {
    RequestBuilder builder(detail::strict_inc_all_script(), 1);
    builder.arg(hash);
    std::vector<RedisKey> keys;
    keys.reserve(updates.size());
    for (KeyCount& update : updates) {
      builder.arg(update.key.str()).arg(update.count);
      keys.push_back(std::move(update.key));
    }
    return {{}, builder.build(), [hash, keys = std::move(keys)](const Reply& reply) {
              detail::throw_if_error(reply, hash, keys);
              const auto& elements = detail::array_of(reply, keys.size());
              std::vector<std::int64_t> values;
              values.reserve(keys.size());
              for (std::size_t i = 0; i < keys.size(); ++i) {
                values.push_back(exact_value(elements[i], hash, keys[i]));
              }
              return values;
            }};
  }

  Batch<UpdateResult> update_if(Mode mode, std::vector<ConditionalUpdate> updates) const {
    return sharded<UpdateResult>(
        mode == Mode::inc ? "inc_all_if" : "set_all_if", std::move(updates),
        [mode](const Impl& self, const std::string& hash, std::vector<ConditionalUpdate> part) {
          return self.update_if_in(hash, mode, std::move(part));
        });
  }

  // The conditional calls: the script reports the value each comparator saw
  // and whether the entry applied, and the value after each entry follows
  // from them exactly.
  Operation<std::vector<UpdateResult>> update_if_in(const std::string& hash, Mode mode,
                                                    std::vector<ConditionalUpdate> updates) const {
    if (mode == Mode::inc && std::ranges::all_of(updates, [](const ConditionalUpdate& update) {
          return update.comparator.kind() == CounterComparator::Kind::nil;
        })) {
      return unconditional_inc_all(hash, std::move(updates));
    }
    RequestBuilder builder(detail::strict_update_if_script(), 1);
    builder.arg(hash).arg(mode == Mode::inc ? "inc" : "set");
    std::vector<RedisKey> keys;
    std::vector<std::int64_t> counts;
    keys.reserve(updates.size());
    counts.reserve(updates.size());
    for (ConditionalUpdate& update : updates) {
      builder.arg(update.key.str())
          .arg(detail::strict_accepted_orders(update.comparator.kind()))
          .arg(update.comparator.operand())
          .arg(update.count);
      keys.push_back(std::move(update.key));
      counts.push_back(update.count);
    }
    return {{},
            builder.build(),
            [hash, mode, keys = std::move(keys), counts = std::move(counts)](const Reply& reply) {
              detail::throw_if_error(reply, hash, keys);
              const auto& elements = detail::array_of(reply, keys.size() * 2);
              std::vector<UpdateResult> results;
              results.reserve(keys.size());
              for (std::size_t i = 0; i < keys.size(); ++i) {
                const std::int64_t previous = detail::field_value(elements[2 * i], hash, keys[i]);
                const bool applied = applied_flag(elements[2 * i + 1]);
                std::int64_t value = previous;
                if (applied) value = mode == Mode::inc ? exact_sum(previous, counts[i]) : counts[i];
                results.push_back({value, previous, applied});
              }
              return results;
            }};
  }

  // inc_all_if whose comparators are all nil is inc_all, which reads
  // nothing: the value before each entry is its value after minus its
  // count, exactly, as no entry overflowed.
  Operation<std::vector<UpdateResult>> unconditional_inc_all(
      const std::string& hash, std::vector<ConditionalUpdate> updates) const {
    std::vector<KeyCount> increments;
    std::vector<std::int64_t> counts;
    increments.reserve(updates.size());
    counts.reserve(updates.size());
    for (ConditionalUpdate& update : updates) {
      counts.push_back(update.count);
      increments.push_back({std::move(update.key), update.count});
    }
    return map(inc_all_in(hash, std::move(increments)), [counts = std::move(counts)](
                                                            std::vector<std::int64_t> values) {
      std::vector<UpdateResult> results;
      results.reserve(values.size());
      for (std::size_t i = 0; i < values.size(); ++i) {
        results.push_back(
            {values[i], exact_sum(values[i], -static_cast<detail::int128>(counts[i])), true});
      }
      return results;
    });
  }

  // An unconditional inc_if is a plain HINCRBY: the value before is the
  // value after minus the count, exactly, as HINCRBY did not overflow.
  // Another inc_if is strict_inc_if.lua, which increments first and undoes
  // only on a miss; set_if is strict_update_if.lua.
  Operation<UpdateResult> update_one(Mode mode, RedisKey key, CounterComparator cmp,
                                     std::int64_t count) const {
    if (mode == Mode::inc && cmp.kind() == CounterComparator::Kind::nil) {
      return map(inc(std::move(key), count), [count](std::int64_t value) {
        return UpdateResult{value, exact_sum(value, -static_cast<detail::int128>(count)), true};
      });
    }
    const std::string& hash = hash_of(key);
    if (mode == Mode::set) {
      std::vector<ConditionalUpdate> updates;
      updates.push_back({std::move(key), cmp, count});
      return map(update_if_in(hash, mode, std::move(updates)),
                 [](std::vector<UpdateResult> results) { return results.front(); });
    }
    return {
        {},
        RequestBuilder(detail::strict_inc_if_script(), 1)
            .arg(hash)
            .arg(key.str())
            .arg(detail::strict_accepted_orders(cmp.kind()))
            .arg(cmp.operand())
            .arg(count)
            .build(),
        [hash, key = std::move(key), count](const Reply& reply) {
          detail::throw_if_error(reply, hash, std::span(&key, 1));
          // The value before; a status reply when the comparator missed.
          const bool applied = reply.kind != Reply::Kind::status;
          const std::int64_t previous = exact_value(reply, hash, key);
          return UpdateResult{applied ? exact_sum(previous, count) : previous, previous, applied};
        }};
  }

  Operation<std::int64_t> del(RedisKey key) const {
    const std::string& hash = hash_of(key);
    return {{},
            RequestBuilder(detail::strict_del_script(), 1).arg(hash).arg(key.str()).build(),
            [hash, key = std::move(key)](const Reply& reply) {
              detail::throw_if_error(reply, hash, std::span(&key, 1));
              return detail::field_value(reply, hash, key);
            }};
  }

  // One DEL per shard: on Redis Cluster the shards' hashes live in
  // different slots, which one command cannot span.
  Batch<detail::Done> clear() const {
    Batch<detail::Done> batch;
    for (std::size_t shard = 0; shard < layout_.count(); ++shard) {
      batch.parts.push_back({shard, {}});
      batch.operations.push_back({{},
                                  RequestBuilder("DEL").key(layout_.hash(shard)).build(),
                                  [hash = layout_.hash(shard)](const Reply& reply) {
                                    detail::throw_if_error(reply, hash, {});
                                    return std::vector<detail::Done>{};
                                  }});
    }
    return batch;
  }

 private:
  const std::string& hash_of(const RedisKey& key) const {
    return layout_.hash(layout_.shard_of(key));
  }

  static const RedisKey& key_of(const RedisKey& key) { return key; }
  static const RedisKey& key_of(const KeyCount& update) { return update.key; }
  static const RedisKey& key_of(const ConditionalUpdate& update) { return update.key; }

  // A batch of `entries` split per shard, each shard's entries (in input
  // order) made into one Operation by std::invoke(build, *this, hash,
  // entries); or its outcome without a round trip.
  template <class E, class Entry, class Build>
  Batch<E> sharded(std::string_view name, std::vector<Entry> entries, Build build) const {
    Batch<E> batch;
    batch.size = entries.size();
    if (auto shortcut = without_round_trip<std::vector<E>>(name, entries.size())) {
      batch.parts.push_back({});
      batch.operations.push_back(std::move(*shortcut));
      return batch;
    }
    batch.parts = detail::split_by_shard(
        layout_, entries.size(),
        [&](std::size_t i) -> const std::string& { return key_of(entries[i]).str(); });
    for (const detail::ShardPart& part : batch.parts) {
      batch.operations.push_back(std::invoke(build, *this, layout_.hash(part.shard),
                                             detail::take_part(entries, part.positions)));
    }
    return batch;
  }

  // The outcome of a batch of `size` entries that needs no round trip: an
  // empty result, or Errc::invalid_argument over max_batch_entries.
  template <class T>
  static std::optional<Operation<T>> without_round_trip(std::string_view name, std::size_t size) {
    if (size == 0) return Operation<T>{detail::Outcome<T>{}, {}, {}};
    try {
      detail::check_batch_size(name, size);
    } catch (const Error& e) {
      return Operation<T>{detail::Outcome<T>::failure(e), {}, {}};
    }
    return std::nullopt;
  }

  // a + b, which the caller knows to fit int64 because Redis computed the
  // same sum without overflowing.
  static std::int64_t exact_sum(detail::int128 a, detail::int128 b) {
    const detail::int128 sum = a + b;
    if (!detail::fits_int64(sum)) detail::unexpected_reply("a value that fits int64");
    return static_cast<std::int64_t>(sum);
  }

  // A value a script returns: an integer where a Lua number holds it
  // exactly (below 2^53 in magnitude), else the field's text.
  static std::int64_t exact_value(const Reply& reply, std::string_view hash, const RedisKey& key) {
    if (reply.kind == Reply::Kind::integer) return reply.integer;
    return detail::field_value(reply, hash, key);
  }

  static bool applied_flag(const Reply& reply) {
    if (reply.kind != Reply::Kind::integer || (reply.integer != 0 && reply.integer != 1)) {
      detail::unexpected_reply("a 0/1 flag");
    }
    return reply.integer == 1;
  }

  // Operation<A> whose parsed result goes through `transform`.
  template <class A, class Transform, class B = std::invoke_result_t<Transform, A>>
  static Operation<B> map(Operation<A> op, Transform transform) {
    Operation<B> mapped;
    if (op.immediate) {
      mapped.immediate =
          detail::Outcome<B>{op.immediate->error, std::move(op.immediate->message),
                             op.immediate->error ? B{} : transform(std::move(op.immediate->value))};
      return mapped;
    }
    mapped.request = std::move(op.request);
    mapped.parse = [parse = std::move(op.parse), transform](const Reply& reply) mutable {
      return transform(parse(reply));
    };
    return mapped;
  }

  std::shared_ptr<Client> client_;  // keeps the connection's I/O thread alive
  std::shared_ptr<detail::Connection> connection_;
  detail::ShardLayout layout_;
};

namespace {

template <class T>
std::vector<T> copy(std::span<const T> items) {
  return {items.begin(), items.end()};
}

}  // namespace

std::shared_ptr<StrictCounter> StrictCounter::create(CounterOptions options) {
  detail::check_counter_options(options);
  return std::shared_ptr<StrictCounter>(
      new StrictCounter(std::make_unique<Impl>(std::move(options))));
}

StrictCounter::StrictCounter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StrictCounter::~StrictCounter() = default;

std::int64_t StrictCounter::inc(const RedisKey& key, std::int64_t count) {
  return impl_->call(impl_->inc(key, count));
}
std::int64_t StrictCounter::dec(const RedisKey& key, std::int64_t count) {
  return impl_->call(impl_->dec(key, count));
}
std::int64_t StrictCounter::get(const RedisKey& key) {
  return impl_->call(impl_->get(key));
}
std::int64_t StrictCounter::set(const RedisKey& key, std::int64_t count) {
  return impl_->call(impl_->set(key, count));
}
std::int64_t StrictCounter::del(const RedisKey& key) {
  return impl_->call(impl_->del(key));
}
void StrictCounter::clear() {
  impl_->call(impl_->clear());
}
UpdateResult StrictCounter::inc_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) {
  return impl_->call(impl_->update_one(Impl::Mode::inc, key, cmp, count));
}
UpdateResult StrictCounter::set_if(const RedisKey& key, CounterComparator cmp, std::int64_t count) {
  return impl_->call(impl_->update_one(Impl::Mode::set, key, cmp, count));
}
std::vector<std::int64_t> StrictCounter::get_all(std::span<const RedisKey> keys) {
  return impl_->call(impl_->get_all(copy(keys)));
}
std::vector<std::int64_t> StrictCounter::inc_all(std::span<const KeyCount> updates) {
  return impl_->call(impl_->inc_all(copy(updates)));
}
std::vector<std::int64_t> StrictCounter::set_all(std::span<const KeyCount> updates) {
  return impl_->call(impl_->set_all(copy(updates)));
}
std::vector<UpdateResult> StrictCounter::inc_all_if(std::span<const ConditionalUpdate> updates) {
  return impl_->call(impl_->update_if(Impl::Mode::inc, copy(updates)));
}
std::vector<UpdateResult> StrictCounter::set_all_if(std::span<const ConditionalUpdate> updates) {
  return impl_->call(impl_->update_if(Impl::Mode::set, copy(updates)));
}

void StrictCounter::initiate_inc(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  impl_->start(impl_->inc(std::move(key), count), std::move(handler));
}
void StrictCounter::initiate_dec(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  impl_->start(impl_->dec(std::move(key), count), std::move(handler));
}
void StrictCounter::initiate_get(RedisKey key, Handler<std::int64_t> handler) {
  impl_->start(impl_->get(std::move(key)), std::move(handler));
}
void StrictCounter::initiate_set(RedisKey key, std::int64_t count, Handler<std::int64_t> handler) {
  impl_->start(impl_->set(std::move(key), count), std::move(handler));
}
void StrictCounter::initiate_del(RedisKey key, Handler<std::int64_t> handler) {
  impl_->start(impl_->del(std::move(key)), std::move(handler));
}
// clear() is never immediate: its outcome comes with the last shard's
// reply.
void StrictCounter::initiate_clear(ClearHandler handler) {
  auto done = detail::reply_completion_for<detail::Done>(std::move(handler), impl_->executor());
  impl_->run(
      impl_->clear(),
      detail::OutcomeCallback<std::vector<detail::Done>>(
          [done = std::move(done)](detail::Outcome<std::vector<detail::Done>> outcome) mutable {
            done({outcome.error, std::move(outcome.message), {}});
          }));
}
void StrictCounter::initiate_inc_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                                    Handler<UpdateResult> handler) {
  impl_->start(impl_->update_one(Impl::Mode::inc, std::move(key), cmp, count), std::move(handler));
}
void StrictCounter::initiate_set_if(RedisKey key, CounterComparator cmp, std::int64_t count,
                                    Handler<UpdateResult> handler) {
  impl_->start(impl_->update_one(Impl::Mode::set, std::move(key), cmp, count), std::move(handler));
}
void StrictCounter::initiate_get_all(std::vector<RedisKey> keys,
                                     Handler<std::vector<std::int64_t>> handler) {
  impl_->start(impl_->get_all(std::move(keys)), std::move(handler));
}
void StrictCounter::initiate_inc_all(std::vector<KeyCount> updates,
                                     Handler<std::vector<std::int64_t>> handler) {
  impl_->start(impl_->inc_all(std::move(updates)), std::move(handler));
}
void StrictCounter::initiate_set_all(std::vector<KeyCount> updates,
                                     Handler<std::vector<std::int64_t>> handler) {
  impl_->start(impl_->set_all(std::move(updates)), std::move(handler));
}
void StrictCounter::initiate_inc_all_if(std::vector<ConditionalUpdate> updates,
                                        Handler<std::vector<UpdateResult>> handler) {
  impl_->start(impl_->update_if(Impl::Mode::inc, std::move(updates)), std::move(handler));
}
void StrictCounter::initiate_set_all_if(std::vector<ConditionalUpdate> updates,
                                        Handler<std::vector<UpdateResult>> handler) {
  impl_->start(impl_->update_if(Impl::Mode::set, std::move(updates)), std::move(handler));
}

}  // namespace distkit
