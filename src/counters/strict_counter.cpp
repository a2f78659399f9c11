#include "distkit/strict_counter.hpp"

#include <limits>

#include "client/client_access.hpp"
#include "client/request.hpp"
#include "counters/operation.hpp"
#include "counters/replies.hpp"
#include "counters/scripts.hpp"

namespace distkit {

using detail::Reply;
using detail::ReplyParser;
using detail::Request;
using detail::RequestBuilder;

// Every call becomes an Operation: the request and how to read its reply
// (or, for an empty batch, the result itself). The blocking and async forms
// of each method share it.
class StrictCounter::Impl {
 public:
  template <class T>
  struct Operation {
    std::optional<T> immediate;
    Request request;
    ReplyParser<T> parse;
  };

  explicit Impl(CounterOptions options)
      : client_(std::move(options.client)),
        connection_(detail::ClientAccess::connection(*client_)),
        hash_(detail::strict_hash_key(options.prefix)) {}

  template <class T>
  T call(Operation<T> op) {
    if (op.immediate) return std::move(*op.immediate);
    return detail::wait_for<T>([&](detail::OutcomeCallback<T> done) {
      detail::submit(*connection_, std::move(op.request), std::move(op.parse), std::move(done));
    });
  }

  template <class T, class Handler>
  void start(Operation<T> op, Handler handler) {
    auto done = detail::completion_for<T>(std::move(handler), connection_->executor());
    if (op.immediate) return done({{}, {}, std::move(*op.immediate)});
    detail::submit(*connection_, std::move(op.request), std::move(op.parse), std::move(done));
  }

  Operation<std::int64_t> get(RedisKey key) const {
    return {{},
            RequestBuilder("HGET").arg(hash_).arg(key.str()).build(),
            [hash = hash_, key = std::move(key)](const Reply& reply) {
              detail::throw_if_error(reply, hash, {});
              return detail::field_value(reply, hash, key);
            }};
  }

  Operation<std::vector<std::int64_t>> get_all(std::vector<RedisKey> keys) const {
    if (keys.empty()) return {std::vector<std::int64_t>{}, {}, {}};
    RequestBuilder builder("HMGET");
    builder.arg(hash_);
    for (const RedisKey& key : keys) builder.arg(key.str());
    return {{}, builder.build(), [hash = hash_, keys = std::move(keys)](const Reply& reply) {
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

  // One HSET of every pair: Redis applies them left to right, so a repeated
  // key ends with its last count, as sequential sets would.
  Operation<std::vector<std::int64_t>> set_all(std::vector<KeyCount> updates) const {
    if (updates.empty()) return {std::vector<std::int64_t>{}, {}, {}};
    RequestBuilder builder("HSET");
    builder.arg(hash_);
    std::vector<std::int64_t> counts;
    counts.reserve(updates.size());
    for (const KeyCount& update : updates) {
      builder.arg(update.key.str()).arg(update.count);
      counts.push_back(update.count);
    }
    return {{}, builder.build(), [hash = hash_, counts = std::move(counts)](const Reply& reply) {
              detail::throw_if_error(reply, hash, {});
              return counts;
            }};
  }

  enum class Mode { inc, set };

  // Runs the update script over `updates` in order; one result per entry.
  Operation<std::vector<UpdateResult>> update(Mode mode,
                                              std::vector<ConditionalUpdate> updates) const {
    if (updates.empty()) return {std::vector<UpdateResult>{}, {}, {}};
    RequestBuilder builder(detail::strict_update_script(), 1);
    builder.arg(hash_).arg(mode == Mode::inc ? "inc" : "set");
    std::vector<RedisKey> keys;
    keys.reserve(updates.size());
    for (ConditionalUpdate& update : updates) {
      builder.arg(update.key.str())
          .arg(detail::lua_operator(update.comparator.kind()))
          .arg(update.comparator.operand())
          .arg(update.count);
      keys.push_back(std::move(update.key));
    }
    return {{}, builder.build(), [hash = hash_, keys = std::move(keys)](const Reply& reply) {
              detail::throw_if_error(reply, hash, keys);
              const auto& elements = detail::array_of(reply, keys.size() * 3);
              std::vector<UpdateResult> results;
              results.reserve(keys.size());
              for (std::size_t i = 0; i < keys.size(); ++i) {
                results.push_back({detail::field_value(elements[3 * i], hash, keys[i]),
                                   detail::field_value(elements[3 * i + 1], hash, keys[i]),
                                   detail::flag(elements[3 * i + 2])});
              }
              return results;
            }};
  }

  Operation<std::vector<std::int64_t>> inc_all(std::vector<KeyCount> updates) const {
    return values_of(update(Mode::inc, unconditional(std::move(updates))));
  }

  Operation<std::int64_t> inc(RedisKey key, std::int64_t count) const {
    return last_value(inc_all(one(std::move(key), count)));
  }

  // -INT64_MIN does not exist, so dec(key, INT64_MIN) adds INT64_MAX and
  // then 1 within the same script call.
  Operation<std::int64_t> dec(RedisKey key, std::int64_t count) const {
    if (count != std::numeric_limits<std::int64_t>::min()) return inc(std::move(key), -count);
    return last_value(inc_all({{key, std::numeric_limits<std::int64_t>::max()}, {key, 1}}));
  }

  Operation<UpdateResult> update_one(Mode mode, RedisKey key, CounterComparator cmp,
                                     std::int64_t count) const {
    std::vector<ConditionalUpdate> updates;
    updates.push_back({std::move(key), cmp, count});
    return first(update(mode, std::move(updates)));
  }

  Operation<std::int64_t> set(RedisKey key, std::int64_t count) const {
    return last_value(set_all(one(std::move(key), count)));
  }

  Operation<std::int64_t> del(RedisKey key) const {
    return {{},
            RequestBuilder(detail::strict_del_script(), 1).arg(hash_).arg(key.str()).build(),
            [hash = hash_, key = std::move(key)](const Reply& reply) {
              detail::throw_if_error(reply, hash, std::span(&key, 1));
              return detail::field_value(reply, hash, key);
            }};
  }

  Operation<detail::Done> clear() const {
    return {{}, RequestBuilder("DEL").arg(hash_).build(), [hash = hash_](const Reply& reply) {
              detail::throw_if_error(reply, hash, {});
              return detail::Done{};
            }};
  }

 private:
  static std::vector<KeyCount> one(RedisKey key, std::int64_t count) {
    std::vector<KeyCount> updates;
    updates.push_back({std::move(key), count});
    return updates;
  }

  static std::vector<ConditionalUpdate> unconditional(std::vector<KeyCount> updates) {
    std::vector<ConditionalUpdate> conditional;
    conditional.reserve(updates.size());
    for (KeyCount& update : updates) {
      conditional.push_back({std::move(update.key), CounterComparator::nil(), update.count});
    }
    return conditional;
  }

  // Operation<A> whose parsed result goes through `transform`.
  template <class A, class Transform>
  static auto map(Operation<A> op, Transform transform) {
    using B = std::invoke_result_t<Transform, A>;
    Operation<B> mapped;
    if (op.immediate) {
      mapped.immediate = transform(std::move(*op.immediate));
      return mapped;
    }
    mapped.request = std::move(op.request);
    mapped.parse = [parse = std::move(op.parse), transform](const Reply& reply) mutable {
      return transform(parse(reply));
    };
    return mapped;
  }

  static Operation<std::vector<std::int64_t>> values_of(Operation<std::vector<UpdateResult>> op) {
    return map(std::move(op), [](std::vector<UpdateResult> results) {
      std::vector<std::int64_t> values;
      values.reserve(results.size());
      for (const UpdateResult& result : results) values.push_back(result.value);
      return values;
    });
  }

  static Operation<std::int64_t> last_value(Operation<std::vector<std::int64_t>> op) {
    return map(std::move(op), [](std::vector<std::int64_t> values) { return values.back(); });
  }

  static Operation<UpdateResult> first(Operation<std::vector<UpdateResult>> op) {
    return map(std::move(op), [](std::vector<UpdateResult> results) { return results.front(); });
  }

  std::shared_ptr<Client> client_;  // keeps the connection's I/O thread alive
  std::shared_ptr<detail::Connection> connection_;
  std::string hash_;
};

namespace {

template <class T>
std::vector<T> copy(std::span<const T> items) {
  return {items.begin(), items.end()};
}

}  // namespace

std::shared_ptr<StrictCounter> StrictCounter::create(CounterOptions options) {
  if (!options.client) throw Error(Errc::invalid_argument, "CounterOptions::client is null");
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
  return impl_->call(impl_->update(Impl::Mode::inc, copy(updates)));
}
std::vector<UpdateResult> StrictCounter::set_all_if(std::span<const ConditionalUpdate> updates) {
  return impl_->call(impl_->update(Impl::Mode::set, copy(updates)));
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
void StrictCounter::initiate_clear(ClearHandler handler) {
  impl_->start(impl_->clear(), std::move(handler));
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
  impl_->start(impl_->update(Impl::Mode::inc, std::move(updates)), std::move(handler));
}
void StrictCounter::initiate_set_all_if(std::vector<ConditionalUpdate> updates,
                                        Handler<std::vector<UpdateResult>> handler) {
  impl_->start(impl_->update(Impl::Mode::set, std::move(updates)), std::move(handler));
}

}  // namespace distkit
