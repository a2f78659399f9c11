#include "client/cluster_connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <mutex>
#include <vector>

#include "client/cluster_map.hpp"
#include "client/cluster_slot.hpp"
#include "client/locator.hpp"
#include "client/slot_gate.hpp"
#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr int max_redirects = 16;
// A MOVED triggers a refresh of the whole map at most this often; the
// redirection itself already fixed the slot at hand.
constexpr std::chrono::milliseconds min_refresh_interval{100};

ServerAddress server_address(const HostPort& node) {
  return {node.host, node.port, {}};
}

Request cluster_slots_request() {
  return RequestBuilder("CLUSTER").arg("SLOTS").build();
}

// One master as the client knows it. When a failover promotes a replica in
// its place, the node takes the replica's address and its connection
// follows on the next reconnect.
struct Node {
  HostPort address;  // guarded by ClusterConnection::mutex_
  std::shared_ptr<NodeConnection> connection;
};

// A slot's route: the Node serving it, and whether its gate is closed
// (SlotGate), in one word that routing reads without a lock. Nodes are
// aligned, so the lowest bit of their address is free for the gate.
constexpr std::uintptr_t gate_closed = 1;

std::uintptr_t route_to(const Node* node, bool closed = false) {
  return reinterpret_cast<std::uintptr_t>(node) | (closed ? gate_closed : 0);
}

Node* node_of(std::uintptr_t route) {
  return reinterpret_cast<Node*>(route & ~gate_closed);
}

class ClusterConnection final : public Connection,
                                public std::enable_shared_from_this<ClusterConnection> {
 public:
  ClusterConnection(const asio::any_io_executor& executor, Settings settings)
      : strand_(asio::make_strand(executor)), settings_(std::move(settings)) {}

  // Reads the slot map from the first seed that gives one.
  void open() {
    std::string failures;
    for (const HostPort& seed : settings_.url.hosts) {
      try {
        const SlotMap map = read_seed_map(seed);
        std::lock_guard lock(mutex_);
        apply_map(map);
        return;
      } catch (const Error& e) {
        failures += failures.empty() ? "" : "; ";
        failures += e.what();
      }
    }
    throw Error(Errc::connection, "cannot connect to Redis Cluster: " + failures);
  }

  void submit(Request request, ReplyCallback done, Submission how) override {
    const std::int32_t slot = request.slot();
    if (closed() || slot == Request::cross_slot) {
      return fail_soon(std::move(done), closed() ? Errc::closed : Errc::invalid_argument);
    }
    if (slot < 0) return first_node().submit(std::move(request), std::move(done), how);
    // The node's connection owns the request from here on; should the
    // cluster redirect it, the connection hands it back (on_redirect), so
    // nothing is copied or wrapped on the way to the master. Lock-free
    // unless the slot's gate is closed: one atomic load here, and the
    // route checked again under the lock the node's connection takes
    // anyway, so that a gate closing meanwhile either sees the request
    // ahead of its fence or turns it away to be held.
    how.slot = slot;
    const auto& word = routes_[static_cast<std::size_t>(slot)];
    for (;;) {
      const std::uintptr_t route = word.load(std::memory_order_acquire);
      Node* const node = node_of(route);
      if ((route & gate_closed) == 0) {
        if (node == nullptr) return first_node().submit(std::move(request), std::move(done), how);
        if (node->connection->submit_on_route(request, done, how, {&word, route})) return;
      } else if (hold(slot, request, done, how)) {
        return;
      }
    }
  }

  void close() override {
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
    std::vector<std::shared_ptr<Node>> nodes;
    std::vector<SlotGate::Held> held;
    {
      std::lock_guard lock(mutex_);
      nodes = nodes_;
      held = gate_.take_all();
    }
    std::promise<void> failed;
    auto done = failed.get_future();
    asio::dispatch(strand_, [this, &held, &failed] {
      gate_timer_.cancel();
      for (auto& call : held) call.done(make_error_code(Errc::closed), {});
      failed.set_value();
    });
    if (!strand_.running_in_this_thread()) done.wait();
    for (const auto& node : nodes) node->connection->close();
  }

  bool closed() const noexcept override { return closed_.load(std::memory_order_acquire); }
  const asio::any_io_executor& executor() const noexcept override { return executor_; }
  std::chrono::milliseconds command_timeout() const noexcept override {
    return settings_.command_timeout;
  }
  bool routes_by_slot() const noexcept override { return true; }

  // Reads the map again from every master at once, taking the first answer,
  // then calls `then` (on the strand). Joins a refresh in progress.
  void refresh(UniqueFunction<void()> then) {
    if (then) refresh_waiters_.push_back(std::move(then));
    if (refreshing_) return;
    refreshing_ = true;
    std::vector<std::pair<std::shared_ptr<Node>, HostPort>> nodes;
    {
      std::lock_guard lock(mutex_);
      for (const auto& node : nodes_) nodes.emplace_back(node, node->address);
    }
    auto remaining = std::make_shared<std::size_t>(nodes.size());
    if (nodes.empty()) return finish_refresh();
    const auto deadline = clock::now() + settings_.command_timeout;
    for (auto& [node, address] : nodes) {
      node->connection->submit(cluster_slots_request(),
                               [self = shared_from_this(), remaining, address = address](
                                   error_code ec, Reply reply) mutable {
                                 if (*remaining == 0) return;  // an earlier answer was taken
                                 if (!ec && self->take_map(reply, address)) *remaining = 1;
                                 if (--*remaining == 0) self->finish_refresh();
                               },
                               {deadline});
    }
  }

  HostPort address_of(const Node& node) const {
    std::lock_guard lock(mutex_);
    return node.address;
  }

 private:
  Connection::Settings node_settings(const HostPort& address) const {
    Settings settings = settings_;
    settings.url.scheme = settings_.url.uses_tls() ? UrlScheme::rediss : UrlScheme::redis;
    settings.url.hosts = {address};
    return settings;
  }

  SlotMap read_seed_map(const HostPort& seed) {
    // On a strand of its own over the I/O executor: wrapping strand_ in an
    // any_io_executor would share a reference count that the seed
    // connection may drop last on an I/O thread, through a fence that
    // ThreadSanitizer cannot see.
    auto connection = Connection::open(strand_.get_inner_executor(), node_settings(seed));
    std::promise<std::pair<error_code, Reply>> answered;
    auto answer = answered.get_future();
    connection->execute(cluster_slots_request(), [&answered](error_code ec, Reply reply) {
      answered.set_value({ec, std::move(reply)});
    });
    auto [ec, reply] = answer.get();
    connection->close();
    const std::string where = "Redis at " + server_address(seed).describe();
    if (ec) throw Error(Errc::connection, where + ": CLUSTER SLOTS: " + ec.message());
    try {
      SlotMap map = parse_cluster_slots(reply, seed);
      if (map.ranges.empty()) throw Error(Errc::redis, "no slot is assigned");
      return map;
    } catch (const Error& e) {
      throw Error(Errc::connection, where + " gave no slot map: " + e.what());
    }
  }

  bool take_map(const Reply& reply, const HostPort& asked) {
    try {
      const SlotMap map = parse_cluster_slots(reply, asked);
      if (map.ranges.empty()) return false;
      std::lock_guard lock(mutex_);
      apply_map(map);
      return true;
    } catch (const Error&) {
      return false;
    }
  }

  void finish_refresh() {
    refreshing_ = false;
    last_refresh_ = clock::now();
    auto waiters = std::move(refresh_waiters_);
    refresh_waiters_.clear();
    for (auto& waiter : waiters) waiter();
  }

  // Installs `map`: slots point at the node of their master. A master not
  // known yet takes over the node whose slots it now serves when that node
  // is no master any more (a failover), or gets a new node. A slot that
  // moves to another node has its gate closed until the old one's earlier
  // requests came back. Holds mutex_.
  void apply_map(const SlotMap& map) {
    std::vector<Node*> owner(cluster_slot_count, nullptr);
    for (const SlotRange& range : map.ranges) {
      Node* const node = node_serving(range, map);
      std::fill(owner.begin() + range.first, owner.begin() + range.last + 1, node);
    }
    for (std::size_t slot = 0; slot < cluster_slot_count; ++slot) {
      reroute(static_cast<std::int32_t>(slot), owner[slot]);
    }
  }

  // Points `slot` at `owner`. When it leaves a node, its gate closes (or
  // stays closed for one more fence) until a fence on that node has
  // passed: every request of the slot the old route sent there is then
  // back. The fence goes in after the route is stored, which
  // submit_on_route relies on. Holds mutex_.
  void reroute(std::int32_t slot, Node* owner) {
    auto& word = routes_[static_cast<std::size_t>(slot)];
    const std::uintptr_t route = word.load(std::memory_order_relaxed);
    Node* const previous = node_of(route);
    if (previous == owner) return;
    if (previous == nullptr) {
      word.store(route_to(owner, (route & gate_closed) != 0), std::memory_order_release);
      return;
    }
    gate_.close(slot);
    word.store(route_to(owner, true), std::memory_order_release);
    previous->connection->fence(slot, [cluster = weak_from_this(), slot](error_code, Reply) {
      if (const auto self = cluster.lock()) self->on_fence_passed(slot);
    });
  }

  // Every request of `slot` sent to a node before the slot left it has
  // come back from there (and redirected ones were sent on): when this
  // opens the slot's gate, its held calls go to its owner now, in issue
  // order (those past their deadline fail with timeout unsent), and it
  // routes lock-free again.
  void on_fence_passed(std::int32_t slot) {
    std::lock_guard lock(mutex_);
    auto released = gate_.fence_passed(slot, clock::now());
    if (gate_.is_closed(slot)) return;
    auto& word = routes_[static_cast<std::size_t>(slot)];
    Node* const owner = node_of(word.load(std::memory_order_relaxed));
    Connection& target = owner != nullptr ? *owner->connection : *nodes_.front()->connection;
    for (auto& call : released.expired) fail_soon(std::move(call.done), Errc::timeout);
    for (auto& call : released.send) {
      target.submit(std::move(call.request), std::move(call.done), {call.deadline, false, 0, slot});
    }
    word.store(route_to(owner), std::memory_order_release);
  }

  // Holds a request of `slot` while its gate is closed. Returns false when
  // the gate opened meanwhile (route it again).
  bool hold(std::int32_t slot, Request& request, ReplyCallback& done, const Submission& how) {
    std::lock_guard lock(mutex_);
    if ((routes_[static_cast<std::size_t>(slot)].load(std::memory_order_relaxed) & gate_closed) ==
        0) {
      return false;
    }
    if (closed()) {
      fail_soon(std::move(done), Errc::closed);
      return true;
    }
    gate_.hold(slot, {std::move(request), std::move(done), how.deadline});
    if (how.deadline < timer_deadline_) {
      asio::post(strand_, [self = shared_from_this()] { self->arm_gate_timer(); });
    }
    return true;
  }

  // Fails held calls when their deadline passes: they never went out.
  void arm_gate_timer() {
    std::optional<clock::time_point> next;
    {
      std::lock_guard lock(mutex_);
      next = gate_.next_deadline();
      if (!next || *next >= timer_deadline_) return;
      timer_deadline_ = *next;
    }
    gate_timer_.expires_at(*next);
    gate_timer_.async_wait([cluster = weak_from_this()](error_code ec) {
      const auto self = cluster.lock();
      if (ec || !self) return;
      std::vector<SlotGate::Held> expired;
      {
        std::lock_guard lock(self->mutex_);
        self->timer_deadline_ = clock::time_point::max();
        expired = self->gate_.expire(clock::now());
      }
      for (auto& call : expired) call.done(make_error_code(Errc::timeout), {});
      self->arm_gate_timer();
    });
  }

  void fail_soon(ReplyCallback done, Errc why) {
    asio::post(strand_, [done = std::move(done), error = make_error_code(why)]() mutable {
      done(error, {});
    });
  }

  Node* node_serving(const SlotRange& range, const SlotMap& map) {
    for (const auto& node : nodes_) {
      if (node->address == range.master) return node.get();
    }
    Node* const previous = node_of(routes_[range.first].load(std::memory_order_relaxed));
    if (previous != nullptr && !map.is_master(previous->address)) {
      previous->address = range.master;
      return previous;
    }
    return add_node(range.master);
  }

  // Holds mutex_.
  Node* add_node(const HostPort& address) {
    auto node = std::make_shared<Node>();
    node->address = address;
    node->connection = Connection::start(
        strand_, node_settings(address),
        [cluster = weak_from_this(), weak_node = std::weak_ptr(node)](const Strand& strand) {
          return make_cluster_node_locator(strand, cluster, weak_node);
        },
        [cluster = weak_from_this(),
         weak_node = std::weak_ptr(node)](RequestQueue::Redirected redirected) {
          const auto self = cluster.lock();
          const auto from = weak_node.lock();
          if (!self || !from) return redirected.done(make_error_code(Errc::closed), {});
          self->on_redirect(*from, std::move(redirected));
        });
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }

  // The connection for a request without keys or of a slot no master
  // serves. Nodes are never removed, so the reference stays valid as long
  // as the cluster.
  Connection& first_node() {
    std::lock_guard lock(mutex_);
    return *nodes_.front()->connection;
  }

  // The node at `address` (a new one if needed); with `moved_slot`, the
  // slot now points at it.
  Node& node_at(const HostPort& address, std::int32_t moved_slot) {
    std::lock_guard lock(mutex_);
    Node* target = nullptr;
    for (const auto& node : nodes_) {
      if (node->address == address) {
        target = node.get();
        break;
      }
    }
    if (target == nullptr) target = add_node(address);
    if (moved_slot >= 0) reroute(moved_slot, target);
    return *target;
  }

  // A request `from` answered with MOVED or ASK: sent on to the node the
  // redirection names (after ASKING for ASK), within its deadline and at
  // most max_redirects times; otherwise its caller gets the redirection.
  void on_redirect(const Node& from, RequestQueue::Redirected call) {
    const auto redirect = parse_redirect(call.reply, address_of(from));
    if (redirect && clock::now() >= call.deadline) {
      return call.done(make_error_code(Errc::timeout), std::move(call.reply));
    }
    if (!redirect || call.redirects >= max_redirects) {
      return call.done({}, std::move(call.reply));
    }
    const bool moved = redirect->kind == Redirect::Kind::moved;
    Node& target = node_at(redirect->target, moved ? redirect->slot : Request::no_keys);
    if (moved && !refreshing_ && clock::now() - last_refresh_ >= min_refresh_interval) {
      refresh({});
    }
    target.connection->submit(std::move(call.request), std::move(call.done),
                              {call.deadline, !moved, call.redirects + 1, call.request.slot()});
  }

  static std::unique_ptr<Locator> make_cluster_node_locator(
      const Strand& strand, std::weak_ptr<ClusterConnection> cluster, std::weak_ptr<Node> node);

  Strand strand_;
  asio::any_io_executor executor_{strand_};
  Settings settings_;
  std::atomic<bool> closed_{false};

  // Guards nodes_, writes to routes_, Node::address, gate_, timer_deadline_.
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Node>> nodes_;  // only ever grows
  // Each slot's route (route_to: null when no node is known); read without
  // mutex_.
  std::array<std::atomic<std::uintptr_t>, cluster_slot_count> routes_{};
  SlotGate gate_;
  clock::time_point timer_deadline_ = clock::time_point::max();  // gate_timer_'s
  asio::steady_timer gate_timer_{strand_};

  // On the strand:
  bool refreshing_ = false;
  clock::time_point last_refresh_{};
  std::vector<UniqueFunction<void()>> refresh_waiters_;
};

// Where a master's connection goes: its node's address, asking the cluster
// for a fresh map before every reconnect, so that a connection to a failed
// master moves to the replica promoted in its place.
class ClusterNodeLocator final : public Locator {
 public:
  ClusterNodeLocator(const Connection::Strand& strand, std::weak_ptr<ClusterConnection> cluster,
                     std::weak_ptr<Node> node)
      : strand_(strand), cluster_(std::move(cluster)), node_(std::move(node)) {}

  void async_locate(Located done) override {
    auto cluster = cluster_.lock();
    auto node = node_.lock();
    if (!cluster || !node) {
      asio::post(strand_, [done = std::move(done)]() mutable {
        done(std::nullopt, "the cluster client was closed");
      });
      return;
    }
    if (!std::exchange(located_, true)) {
      asio::post(strand_, [address = cluster->address_of(*node), done = std::move(done)]() mutable {
        done(server_address(address), {});
      });
      return;
    }
    cluster->refresh([cluster, node, done = std::move(done)]() mutable {
      done(server_address(cluster->address_of(*node)), {});
    });
  }

  bool requires_master() const noexcept override { return false; }
  void close() override {}

 private:
  asio::any_io_executor strand_;
  std::weak_ptr<ClusterConnection> cluster_;
  std::weak_ptr<Node> node_;
  bool located_ = false;
};

std::unique_ptr<Locator> ClusterConnection::make_cluster_node_locator(
    const Strand& strand, std::weak_ptr<ClusterConnection> cluster, std::weak_ptr<Node> node) {
  return std::make_unique<ClusterNodeLocator>(strand, std::move(cluster), std::move(node));
}

}  // namespace

std::shared_ptr<Connection> open_cluster_connection(const asio::any_io_executor& executor,
                                                    Connection::Settings settings) {
  auto connection = std::make_shared<ClusterConnection>(executor, std::move(settings));
  connection->open();
  return connection;
}

}  // namespace distkit::detail
