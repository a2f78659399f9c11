#include "operator_commands.hpp"

#include <CLI/CLI.hpp>
#include <distkit/distkit.hpp>
#include <functional>
#include <iostream>
#include <memory>
#include <tuple>

#include "output.hpp"
#include "redis_target.hpp"

namespace distkit::tools {
namespace {

struct OpenCounter {
  std::shared_ptr<Counter> counter;
  LaxCounter* lax = nullptr;  // set when the counter is a LaxCounter
};

OpenCounter open_counter(const OperatorOptions& options) {
  const RedisKey prefix(options.prefix);
  std::string url = configured_url(options.url);
  auto client = Client::connect(url.empty() ? "redis://127.0.0.1:6379" : url);
  CounterOptions counter_options(prefix, client);
  if (!options.lax) return {StrictCounter::create(counter_options), nullptr};
  auto lax = LaxCounter::create(counter_options);
  LaxCounter* raw = lax.get();
  return {std::move(lax), raw};
}

void print_value(const OperatorOptions& options, const std::string& key, const char* field,
                 std::int64_t value) {
  if (options.json) {
    std::cout << "{\"key\":" << json_string(key) << ",\"" << field << "\":" << value << "}\n";
  } else {
    std::cout << value << '\n';
  }
}

// Runs `body` with the selected counter, turning failures into a one-line
// message and an exit code. Writes of a LaxCounter are flushed before the
// tool exits, so that a failure to deliver them is reported.
void run(const OperatorOptions& options, int& exit_code,
         const std::function<void(Counter&)>& body) {
  try {
    OpenCounter opened = open_counter(options);
    body(*opened.counter);
    if (opened.lax != nullptr) opened.lax->flush();
    exit_code = exit_ok;
  } catch (const std::exception& e) {
    exit_code = report_failure(e);
  }
}

}  // namespace

void add_operator_commands(CLI::App& app, const OperatorOptions& options, int& exit_code) {
  // Subcommand arguments live as long as the app; shared_ptr keeps them
  // alive in the callbacks.
  auto key = std::make_shared<std::string>();
  auto count = std::make_shared<std::int64_t>(1);
  auto keys = std::make_shared<std::vector<std::string>>();

  auto* get = app.add_subcommand("get", "Print the value of KEY (0 if never written)");
  get->add_option("KEY", *key, "counter key")->required();
  get->callback([&options, &exit_code, key] {
    run(options, exit_code,
        [&](Counter& c) { print_value(options, *key, "value", c.get(RedisKey(*key))); });
  });

  // inc and dec: KEY [N], printing the new value.
  using Step = std::int64_t (Counter::*)(const RedisKey&, std::int64_t);
  for (const auto& [name, help, step] :
       {std::tuple<const char*, const char*, Step>{
            "inc", "Add N (default 1) to KEY and print the new value", &Counter::inc},
        std::tuple<const char*, const char*, Step>{
            "dec", "Subtract N (default 1) from KEY and print the new value", &Counter::dec}}) {
    auto* command = app.add_subcommand(name, help);
    command->add_option("KEY", *key, "counter key")->required();
    command->add_option("N", *count, "amount, may be negative")->default_val(1);
    command->callback([&options, &exit_code, key, count, step = step] {
      run(options, exit_code, [&](Counter& c) {
        print_value(options, *key, "value", (c.*step)(RedisKey(*key), *count));
      });
    });
  }

  auto* set = app.add_subcommand("set", "Set KEY to V");
  set->add_option("KEY", *key, "counter key")->required();
  set->add_option("V", *count, "new value")->required();
  set->callback([&options, &exit_code, key, count] {
    run(options, exit_code,
        [&](Counter& c) { print_value(options, *key, "value", c.set(RedisKey(*key), *count)); });
  });

  auto* del = app.add_subcommand("del", "Delete KEY and print the value it had");
  del->add_option("KEY", *key, "counter key")->required();
  del->callback([&options, &exit_code, key] {
    run(options, exit_code,
        [&](Counter& c) { print_value(options, *key, "previous", c.del(RedisKey(*key))); });
  });

  auto* clear = app.add_subcommand("clear", "Delete every key of the counter");
  clear->callback([&options, &exit_code] {
    run(options, exit_code, [&](Counter& c) {
      c.clear();
      std::cout << (options.json ? "{\"cleared\":true}" : "cleared") << '\n';
    });
  });

  auto* get_all = app.add_subcommand("get-all", "Print the values of every KEY, in order");
  get_all->add_option("KEY", *keys, "counter keys")->required();
  get_all->callback([&options, &exit_code, keys] {
    run(options, exit_code, [&](Counter& c) {
      std::vector<RedisKey> parsed(keys->begin(), keys->end());
      const auto values = c.get_all(parsed);
      if (options.json) std::cout << "{\"values\":[";
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (options.json) {
          std::cout << (i ? "," : "") << "{\"key\":" << json_string((*keys)[i])
                    << ",\"value\":" << values[i] << '}';
        } else {
          std::cout << (*keys)[i] << '\t' << values[i] << '\n';
        }
      }
      if (options.json) std::cout << "]}\n";
    });
  });
}

}  // namespace distkit::tools
