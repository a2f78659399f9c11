// A second process owning a slice of an instance-aware counter, for the
// dead-instance tests: adds COUNT to KEY, prints its instance id and then
// heartbeats until it is killed.
// Usage: distkit_instance_probe URL PREFIX THRESHOLD_MS KEY COUNT
#include <unistd.h>

#include <chrono>
#include <distkit/distkit.hpp>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: distkit_instance_probe URL PREFIX THRESHOLD_MS KEY COUNT\n";
    return 2;
  }
  try {
    auto client = distkit::Client::connect(argv[1]);
    distkit::InstanceAwareCounterOptions options(distkit::RedisKey(argv[2]), client);
    options.dead_instance_threshold = std::chrono::milliseconds(std::stoll(argv[3]));
    auto counter = distkit::StrictInstanceAwareCounter::create(options);
    counter->inc(distkit::RedisKey(argv[4]), std::stoll(argv[5]));
    std::cout << counter->instance_id() << std::endl;
    for (;;) pause();
  } catch (const distkit::Error& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
}
