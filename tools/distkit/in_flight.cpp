#include "in_flight.hpp"

#include <boost/system/system_error.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace distkit::tools {
namespace {

class InFlightRun {
 public:
  InFlightRun(int total, const OperationStarter& start) : total_(total), start_(start) {}

  void start_one() {
    std::unique_lock lock(mutex_);
    const auto index = claim_next(lock);
    lock.unlock();
    if (index) start_unlocked(*index);
  }

  void wait_until_drained() {
    std::unique_lock lock(mutex_);
    drained_.wait(lock, [&] { return in_flight_ == 0; });
    if (failure_) throw boost::system::system_error(failure_);
  }

 private:
  // The next operation's index, counted in flight; none when all started or
  // one failed.
  std::optional<int> claim_next(std::unique_lock<std::mutex>&) {
    if (failure_ || next_ == total_) return std::nullopt;
    ++in_flight_;
    return next_++;
  }

  void start_unlocked(int index) {
    start_(index, [this](boost::system::error_code error) { on_done(error); });
  }

  // A finishing operation claims its successor in the same critical
  // section in which it counts itself out, so `in_flight_` reaches zero only
  // once no handler will touch this object again.
  void on_done(boost::system::error_code error) {
    std::unique_lock lock(mutex_);
    if (error && !failure_) failure_ = error;
    --in_flight_;
    const auto successor = claim_next(lock);
    if (!successor) {
      if (in_flight_ == 0) drained_.notify_all();
      return;
    }
    lock.unlock();
    start_unlocked(*successor);
  }

  const int total_;
  const OperationStarter& start_;
  std::mutex mutex_;
  std::condition_variable drained_;
  int next_ = 0;
  int in_flight_ = 0;
  boost::system::error_code failure_;
};

}  // namespace

std::chrono::duration<double> run_in_flight(int depth, int total, const OperationStarter& start) {
  InFlightRun run(total, start);
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < depth; ++i) run.start_one();
  run.wait_until_drained();
  return std::chrono::steady_clock::now() - began;
}

}  // namespace distkit::tools
