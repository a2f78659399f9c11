#include "client/cluster_connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <future>
#include <mutex>
#include <vector>

#include "client/cluster_map.hpp"
#include "client/cluster_slot.hpp"
#include "client/locator.hpp"
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
  std::shared_ptr<Connection> connection;
};

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
      const auto error = make_error_code(closed() ? Errc::closed : Errc::invalid_argument);
      asio::post(strand_, [done = std::move(done), error]() mutable { done(error, {}); });
      return;
    }
    // The node's connection owns the request from here on; should the
    // cluster redirect it, the connection hands it back (on_redirect), so
    // nothing is copied or wrapped on the way to the master.
    node_for_slot(slot).submit(std::move(request), std::move(done), how);
  }

  void close() override {
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
    std::vector<std::shared_ptr<Node>> nodes;
    {
      std::lock_guard lock(mutex_);
      nodes = nodes_;
    }
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
  // is no master any more (a failover), or gets a new node. Holds mutex_.
  void apply_map(const SlotMap& map) {
    std::vector<Node*> owner(cluster_slot_count, nullptr);
    for (const SlotRange& range : map.ranges) {
      Node* const node = node_serving(range, map);
      std::fill(owner.begin() + range.first, owner.begin() + range.last + 1, node);
    }
    for (std::size_t slot = 0; slot < cluster_slot_count; ++slot) {
      owner_[slot].store(owner[slot], std::memory_order_release);
    }
  }

  Node* node_serving(const SlotRange& range, const SlotMap& map) {
    for (const auto& node : nodes_) {
      if (node->address == range.master) return node.get();
    }
    Node* const previous = owner_[range.first].load(std::memory_order_relaxed);
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

  // The connection of the master serving `slot` (any master for a request
  // without keys or a slot no master serves). Lock-free: a routed call
  // costs one atomic load here. Nodes are never removed, so the reference
  // stays valid as long as the cluster.
  Connection& node_for_slot(std::int32_t slot) {
    if (slot >= 0) {
      if (Node* node = owner_[static_cast<std::size_t>(slot)].load(std::memory_order_acquire)) {
        return *node->connection;
      }
    }
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
    if (moved_slot >= 0) {
      owner_[static_cast<std::size_t>(moved_slot)].store(target, std::memory_order_release);
    }
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
                              {call.deadline, !moved, call.redirects + 1});
  }

  static std::unique_ptr<Locator> make_cluster_node_locator(
      const Strand& strand, std::weak_ptr<ClusterConnection> cluster, std::weak_ptr<Node> node);

  Strand strand_;
  asio::any_io_executor executor_{strand_};
  Settings settings_;
  std::atomic<bool> closed_{false};

  mutable std::mutex mutex_;                  // guards nodes_, writes to owner_, Node::address
  std::vector<std::shared_ptr<Node>> nodes_;  // only ever grows
  // The node serving each slot (null: none known); read without mutex_.
  std::array<std::atomic<Node*>, cluster_slot_count> owner_{};

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
