// The counters overview's quick start, in C++: one strict and one lax
// counter on the same Redis, a few increments, and reads back.
//
//   REDIS_URL=redis://127.0.0.1:6379 ./quickstart
#include <cstdlib>
#include <distkit/distkit.hpp>
#include <iostream>

int main() {
  try {
    const char* url = std::getenv("REDIS_URL");
    auto client = distkit::Client::connect(url != nullptr ? url : "redis://127.0.0.1:6379");
    const distkit::RedisKey prefix("quickstart");
    const distkit::RedisKey page_views("page_views");

    // Strict: every call is one atomic step in Redis.
    auto strict = distkit::StrictCounter::create({prefix, client});
    strict->clear();
    strict->inc(page_views, 1);
    strict->inc(page_views, 4);
    std::cout << "strict page_views = " << strict->get(page_views) << '\n';  // 5

    // Conditional updates return what happened.
    const distkit::UpdateResult capped =
        strict->inc_if(page_views, distkit::CounterComparator::lt(10), 100);
    std::cout << "inc_if(lt 10, +100): applied=" << std::boolalpha << capped.applied
              << " previous=" << capped.previous << " value=" << capped.value << '\n';

    // Lax: increments are buffered in-process and flushed every allowed_lag.
    distkit::CounterOptions options(prefix, client);
    options.allowed_lag = std::chrono::milliseconds(20);
    auto lax = distkit::LaxCounter::create(options);
    lax->clear();
    for (int i = 0; i < 1000; ++i) lax->inc(page_views, 1);
    std::cout << "lax page_views (local view) = " << lax->get(page_views) << '\n';  // 1000
    lax->flush();  // everything accepted so far is now in Redis
    std::cout << "lax page_views flushed to Redis hash quickstart:lax_counter\n";

    // Batches keep input order.
    const distkit::RedisKey a("a"), b("b");
    const std::vector<distkit::KeyCount> updates{{a, 1}, {b, 2}, {a, 3}};
    const auto values = strict->inc_all(updates);
    std::cout << "inc_all -> " << values[0] << ' ' << values[1] << ' ' << values[2] << '\n';

    // Errors carry an Errc.
    try {
      distkit::RedisKey bad("has:colon");
    } catch (const distkit::Error& e) {
      std::cout << "invalid key rejected: " << e.what() << '\n';
    }
    return 0;
  } catch (const distkit::Error& e) {
    std::cerr << "quickstart: " << e.what() << '\n';
    return 1;
  }
}
