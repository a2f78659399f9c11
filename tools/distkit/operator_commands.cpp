#include "operator_commands.hpp"

#include <CLI/CLI.hpp>
#include <distkit/distkit.hpp>
#include <iostream>
#include <memory>

#include "command_inputs.hpp"
#include "exit_codes.hpp"
#include "instance_commands.hpp"
#include "json.hpp"
#include "redis_target.hpp"
#include "url_in_use.hpp"

namespace distkit::tools {
namespace {

// The counter the global options select, on a connection of its own.
class SelectedCounter {
 public:
  // Validates the prefix before connecting: a typo fails without a round trip.
  explicit SelectedCounter(const GlobalOptions& options) {
    const RedisKey prefix = prefix_option(options.prefix);
    const ClientOptions client_options = operator_client_options(options);
    set_url_in_use(client_options.url);
    // The command's outcome is its exit code and its one line on stderr; a
    // background retry's log line would only repeat it.
    set_log_handler([](LogLevel, std::string_view) {});
    client_ = Client::connect(client_options);
    CounterOptions counter_options(prefix, client_);
    counter_options.shards = options.shards;
    if (options.lax) {
      lax_ = LaxCounter::create(counter_options);
      counter_ = lax_;
    } else {
      counter_ = StrictCounter::create(counter_options);
    }
  }

  Counter& operator*() const { return *counter_; }

  // Returns once a LaxCounter's buffered writes are in Redis, so that the
  // command succeeds only if they arrived.
  void finish() {
    if (!lax_) return;
    try {
      lax_->flush();
    } catch (const Error& e) {
      // Nothing more can be delivered in this process; closing the client
      // first spares the LaxCounter's destructor its bounded retry wait.
      client_->close();
      throw ToolError(exit_code_for(e.code()),
                      std::string("the lax write did not reach Redis: ") + e.what());
    }
  }

 private:
  std::shared_ptr<Client> client_;
  std::shared_ptr<Counter> counter_;
  std::shared_ptr<LaxCounter> lax_;
};

// get, inc, dec, set and del: one key, maybe an amount, one number printed.
struct SingleKeyCommand {
  enum class Amount { none, optional, required };
  const char* name;
  const char* description;
  Amount amount;
  const char* amount_name;
  const char* amount_help;
  const char* result_name;  // the JSON member holding the printed number
  std::int64_t (*apply)(Counter& counter, const RedisKey& key, std::int64_t amount);
};

const SingleKeyCommand single_key_commands[] = {
    {"get", "Print the value of KEY (0 if it was never written)", SingleKeyCommand::Amount::none,
     "", "", "value", [](Counter& c, const RedisKey& key, std::int64_t) { return c.get(key); }},
    {"inc", "Add N to KEY and print the new value", SingleKeyCommand::Amount::optional, "N",
     "amount to add, default 1, may be negative", "value",
     [](Counter& c, const RedisKey& key, std::int64_t n) { return c.inc(key, n); }},
    {"dec", "Subtract N from KEY and print the new value", SingleKeyCommand::Amount::optional, "N",
     "amount to subtract, default 1, may be negative", "value",
     [](Counter& c, const RedisKey& key, std::int64_t n) { return c.dec(key, n); }},
    {"set", "Set KEY to V and print it", SingleKeyCommand::Amount::required, "V", "the new value",
     "value", [](Counter& c, const RedisKey& key, std::int64_t v) { return c.set(key, v); }},
    {"del", "Delete KEY and print the value it had", SingleKeyCommand::Amount::none, "", "",
     "previous", [](Counter& c, const RedisKey& key, std::int64_t) { return c.del(key); }},
};

struct SingleKeyArguments {
  std::string key;
  std::int64_t amount = 1;
};

int run_single_key(const GlobalOptions& options, const SingleKeyCommand& command,
                   const SingleKeyArguments& arguments) {
  const RedisKey key = key_argument(arguments.key);
  if (options.instance_aware) {
    return run_instance_single_key(options, command.name, key, arguments.amount);
  }
  SelectedCounter counter(options);
  const std::int64_t result = command.apply(*counter, key, arguments.amount);
  counter.finish();
  if (options.json) {
    std::cout << JsonObject().add_bytes("key", key.str()).add_int(command.result_name, result).str()
              << '\n';
  } else {
    std::cout << result << '\n';
  }
  return exit_ok;
}

void add_single_key_command(CLI::App& app, const GlobalOptions& options, int& exit_code,
                            const SingleKeyCommand& command) {
  auto arguments = std::make_shared<SingleKeyArguments>();
  auto* sub = app.add_subcommand(command.name, command.description);
  sub->add_option("KEY", arguments->key, "counter key: 1-255 bytes, no ':'")->required();
  if (command.amount != SingleKeyCommand::Amount::none) {
    auto* amount = sub->add_option(command.amount_name, arguments->amount, command.amount_help)
                       ->check(canonical_int64())
                       ->type_name("INT64");
    if (command.amount == SingleKeyCommand::Amount::required) amount->required();
  }
  sub->callback([&options, &exit_code, &command, arguments] {
    exit_code = run_reporting_failure([&] { return run_single_key(options, command, *arguments); });
  });
}

int run_clear(const GlobalOptions& options) {
  if (options.instance_aware) return run_instance_clear(options);
  SelectedCounter counter(options);
  (*counter).clear();
  std::cout << (options.json ? JsonObject().add_bool("cleared", true).str() : "cleared") << '\n';
  return exit_ok;
}

int run_get_all(const GlobalOptions& options, const std::vector<std::string>& key_texts) {
  std::vector<RedisKey> keys;
  for (const std::string& text : key_texts) keys.push_back(key_argument(text));
  SelectedCounter counter(options);
  const std::vector<std::int64_t> values = (*counter).get_all(keys);
  if (options.json) {
    std::vector<std::string> entries;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      entries.push_back(
          JsonObject().add_bytes("key", keys[i].str()).add_int("value", values[i]).str());
    }
    std::cout << JsonObject().add_json("values", json_array(entries)).str() << '\n';
  } else {
    for (std::size_t i = 0; i < keys.size(); ++i)
      std::cout << keys[i].str() << '\t' << values[i] << '\n';
  }
  return exit_ok;
}

}  // namespace

void add_operator_commands(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  for (const SingleKeyCommand& command : single_key_commands) {
    add_single_key_command(app, options, exit_code, command);
  }

  app.add_subcommand("clear", "Delete every key of the counter (its hash and auxiliary keys)")
      ->callback([&options, &exit_code] {
        exit_code = run_reporting_failure([&] { return run_clear(options); });
      });

  auto keys = std::make_shared<std::vector<std::string>>();
  auto* get_all = app.add_subcommand(
      "get-all", "Print the value of every KEY, in order, as 'KEY<TAB>value' lines");
  get_all->add_option("KEY", *keys, "counter keys")->required();
  get_all->callback([&options, &exit_code, keys] {
    exit_code = run_reporting_failure([&] { return run_get_all(options, *keys); });
  });
}

}  // namespace distkit::tools
