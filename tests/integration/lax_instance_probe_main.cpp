// A process incrementing a LaxInstanceAwareCounter nonstop, for the
// cross-process tests: adds 1 COUNT times over KEYS keys k0, k1, ... and
// exits, its destructor flushing what is buffered. With COUNT 0 it prints
// its instance id and increments until it is killed.
// Usage: distkit_lax_instance_probe URL PREFIX KEYS COUNT [THRESHOLD_MS]
#include <distkit/distkit.hpp>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: distkit_lax_instance_probe URL PREFIX KEYS COUNT [THRESHOLD_MS]\n";
    return 2;
  }
  try {
    distkit::InstanceAwareCounterOptions options(distkit::RedisKey(argv[2]),
                                                 distkit::Client::connect(argv[1]));
    options.allowed_lag = std::chrono::milliseconds(2);
    if (argc == 6) options.dead_instance_threshold = std::chrono::milliseconds(std::stoll(argv[5]));
    auto counter = distkit::LaxInstanceAwareCounter::create(options);
    const long long keys = std::stoll(argv[3]), count = std::stoll(argv[4]);
    if (count == 0) std::cout << counter->instance_id() << std::endl;
    for (long long i = 0; count == 0 || i < count; ++i) {
      counter->inc(distkit::RedisKey("k" + std::to_string(i % keys)), 1);
    }
  } catch (const distkit::Error& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
  return 0;
}
