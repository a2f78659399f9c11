#include "counters/lax_lane.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

using clock = LaxLane::clock;
using boost::system::error_code;

class LaxLaneTest : public testing::Test {
 protected:
  // A job that logs "start <name>" / "expire <name>" and stays running
  // until the test calls lane.finished().
  LaxLane::Job job(std::string name, clock::time_point deadline = clock::time_point::max()) {
    return {
        [this, name] { log.push_back("start " + name); },
        [this, name](error_code error) { log.push_back("expire " + name + " " + error.message()); },
        deadline};
  }

  std::vector<std::string> log;
  LaxLane lane{[] { return make_error_code(Errc::timeout); }};
};

TEST_F(LaxLaneTest, RunsOneJobAtATimeInOrder) {
  lane.enqueue(job("a"));
  lane.enqueue(job("b"));
  lane.enqueue(job("c"));
  EXPECT_EQ(log, (std::vector<std::string>{"start a"}));
  lane.finished();
  lane.finished();
  EXPECT_EQ(log, (std::vector<std::string>{"start a", "start b", "start c"}));
}

TEST_F(LaxLaneTest, JobsFinishingWhileStartingDoNotRecurse) {
  int started = 0;
  for (int i = 0; i < 10000; ++i) {
    lane.enqueue({[&] {
                    ++started;
                    lane.finished();
                  },
                  [](error_code) {}, clock::time_point::max()});
  }
  EXPECT_EQ(started, 10000);
}

TEST_F(LaxLaneTest, BlockedLaneStartsNothingUntilUnblocked) {
  lane.enqueue(job("flush"));
  lane.block();
  lane.finished();
  lane.enqueue(job("set"));
  EXPECT_EQ(log, (std::vector<std::string>{"start flush"}));
  lane.unblock();
  EXPECT_EQ(log, (std::vector<std::string>{"start flush", "start set"}));
}

TEST_F(LaxLaneTest, WaitingJobsExpireAtTheirDeadline) {
  const auto now = clock::now();
  lane.enqueue(job("running"));
  lane.enqueue(job("soon", now + std::chrono::seconds(1)));
  lane.enqueue(job("patient"));
  lane.enqueue(job("later", now + std::chrono::seconds(5)));
  EXPECT_EQ(lane.next_deadline(), now + std::chrono::seconds(1));
  lane.expire(now + std::chrono::seconds(2));
  EXPECT_EQ(lane.next_deadline(), now + std::chrono::seconds(5));
  lane.finished();
  const std::string timed_out = make_error_code(Errc::timeout).message();
  EXPECT_EQ(log, (std::vector<std::string>{"start running", "expire soon " + timed_out,
                                           "start patient"}));
}

TEST_F(LaxLaneTest, AJobPastItsDeadlineExpiresInsteadOfStarting) {
  lane.enqueue(job("running"));
  lane.enqueue(job("stale", clock::now()));
  lane.finished();
  EXPECT_EQ(log.back(), "expire stale " + make_error_code(Errc::timeout).message());
}

TEST_F(LaxLaneTest, CloseExpiresWaitingAndLaterJobs) {
  lane.enqueue(job("running"));
  lane.enqueue(job("waiting"));
  lane.close(make_error_code(Errc::closed));
  lane.enqueue(job("late"));
  const std::string closed = make_error_code(Errc::closed).message();
  EXPECT_EQ(log, (std::vector<std::string>{"start running", "expire waiting " + closed,
                                           "expire late " + closed}));
}

}  // namespace
}  // namespace distkit::detail
