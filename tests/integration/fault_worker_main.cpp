// A worker process of the fault-injection test: counts through a LaxCounter
// and a StrictCounter for a while, then drains the lax buffer and prints
//   <lax increments accepted> <strict acknowledged> <strict uncertain>
// (uncertain: failed with timeout/connection, so they may or may not have
// happened). Usage: distkit_fault_worker URL PREFIX MILLISECONDS
#include <chrono>
#include <distkit/distkit.hpp>
#include <iostream>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: distkit_fault_worker URL PREFIX MILLISECONDS\n";
    return 2;
  }
  using namespace std::chrono;
  distkit::set_log_handler([](distkit::LogLevel, std::string_view) {});  // faults are expected
  distkit::ClientOptions client_options;
  client_options.url = argv[1];
  client_options.command_timeout = milliseconds(300);
  client_options.connect_timeout = milliseconds(300);
  auto client = distkit::Client::connect(client_options);
  distkit::CounterOptions options(distkit::RedisKey(argv[2]), client);
  auto lax = distkit::LaxCounter::create(options);
  auto strict = distkit::StrictCounter::create(options);
  constexpr int keys = 16;
  std::int64_t lax_accepted = 0, strict_acked = 0, strict_uncertain = 0;
  const auto end = steady_clock::now() + milliseconds(std::stoi(argv[3]));
  for (int i = 0; steady_clock::now() < end; ++i) {
    const distkit::RedisKey key("k" + std::to_string(i % keys));
    try {
      lax->inc(key, 1);
      ++lax_accepted;
    } catch (const distkit::Error&) {
      // A cold key while Redis is away: nothing was buffered.
    }
    if (i % 4 == 0) {
      try {
        strict->inc(key, 1);
        ++strict_acked;
      } catch (const distkit::Error& e) {
        if (e.code() == distkit::Errc::timeout || e.code() == distkit::Errc::connection) {
          ++strict_uncertain;
        }
      }
    }
    if (i % 64 == 0) std::this_thread::sleep_for(microseconds(500));
  }
  const auto give_up = steady_clock::now() + seconds(30);
  for (;;) {
    try {
      lax->flush();
      break;
    } catch (const distkit::Error& e) {
      if (steady_clock::now() > give_up) {
        std::cerr << "worker could not drain: " << e.what() << '\n';
        return 1;
      }
    }
  }
  std::cout << lax_accepted << ' ' << strict_acked << ' ' << strict_uncertain << '\n';
  return 0;
}
