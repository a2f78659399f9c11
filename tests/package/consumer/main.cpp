// Compiles against every public name of the contract. Run without
// arguments it only checks what needs no Redis; with a Redis URL it also
// talks to it.
#include <boost/asio/use_future.hpp>
#include <distkit/distkit.hpp>
#include <iostream>

namespace {

void use_counter(distkit::Counter& counter) {
  const distkit::RedisKey key("k");
  counter.inc(key, 1);
  counter.dec(key, 1);
  counter.get(key);
  counter.set(key, 2);
  counter.del(key);
  counter.inc_if(key, distkit::CounterComparator::nil(), 1);
  counter.set_if(key, distkit::CounterComparator::eq(1), 3);
  const std::vector<distkit::RedisKey> keys{key};
  const std::vector<distkit::KeyCount> counts{{key, 1}};
  const std::vector<distkit::ConditionalUpdate> conditional{
      {key, distkit::CounterComparator::ge(0), 1}};
  counter.get_all(keys);
  counter.inc_all(counts);
  counter.set_all(counts);
  const std::vector<distkit::UpdateResult> results = counter.inc_all_if(conditional);
  counter.set_all_if(conditional);
  counter.async_get(key, boost::asio::use_future).get();
  counter.async_clear(boost::asio::use_future).get();
  std::cout << "counter ok, " << results.size() << " result\n";
}

}  // namespace

int main(int argc, char** argv) {
  const distkit::RedisKey prefix = distkit::RedisKey::sanitize("consumer:check");
  static_assert(distkit::CounterComparator::lt(5).matches(4));
  const boost::system::error_code code = distkit::make_error_code(distkit::Errc::overflow);
  if (code != distkit::Errc::overflow || &code.category() != &distkit::error_category()) return 1;
  try {
    distkit::RedisKey bad("a:b");
    return 1;
  } catch (const distkit::Error& e) {
    if (e.code() != distkit::Errc::invalid_key) return 1;
  }
  if (argc < 2) {
    std::cout << "package ok (prefix " << prefix.str() << ")\n";
    return 0;
  }
  distkit::ClientOptions options;
  options.url = argv[1];
  auto client = distkit::Client::connect(options);
  auto same = distkit::Client::connect(std::string(argv[1]));
  distkit::CounterOptions counter_options(prefix, client);
  use_counter(*distkit::StrictCounter::create(counter_options));
  auto lax = distkit::LaxCounter::create(counter_options);
  use_counter(*lax);
  lax->flush();
  return 0;
}
