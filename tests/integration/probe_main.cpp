// A second process for visibility tests: prints a counter's value as this
// process sees it.  Usage: distkit_test_probe URL PREFIX strict|lax KEY
#include <distkit/distkit.hpp>
#include <iostream>
#include <string_view>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: distkit_test_probe URL PREFIX strict|lax KEY\n";
    return 2;
  }
  try {
    auto client = distkit::Client::connect(argv[1]);
    distkit::CounterOptions options(distkit::RedisKey(argv[2]), client);
    std::shared_ptr<distkit::Counter> counter;
    if (std::string_view(argv[3]) == "lax") {
      counter = distkit::LaxCounter::create(options);
    } else {
      counter = distkit::StrictCounter::create(options);
    }
    std::cout << counter->get(distkit::RedisKey(argv[4])) << '\n';
    return 0;
  } catch (const distkit::Error& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
}
