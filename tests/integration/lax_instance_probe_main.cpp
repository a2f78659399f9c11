// A process incrementing a LaxInstanceAwareCounter nonstop, for the
// cross-process exactness test: adds 1 COUNT times over KEYS keys k0, k1,
// ... and exits, its destructor flushing what is buffered.
// Usage: distkit_lax_instance_probe URL PREFIX KEYS COUNT
#include <distkit/distkit.hpp>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: distkit_lax_instance_probe URL PREFIX KEYS COUNT\n";
    return 2;
  }
  try {
    distkit::InstanceAwareCounterOptions options(distkit::RedisKey(argv[2]),
                                                 distkit::Client::connect(argv[1]));
    options.allowed_lag = std::chrono::milliseconds(2);
    auto counter = distkit::LaxInstanceAwareCounter::create(options);
    const long long keys = std::stoll(argv[3]), count = std::stoll(argv[4]);
    for (long long i = 0; i < count; ++i) {
      counter->inc(distkit::RedisKey("k" + std::to_string(i % keys)), 1);
    }
  } catch (const distkit::Error& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
  return 0;
}
