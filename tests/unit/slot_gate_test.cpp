#include "client/slot_gate.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "distkit/error.hpp"

namespace distkit::detail {
namespace {

using clock = SlotGate::clock;
using boost::system::error_code;

const auto later = clock::now() + std::chrono::hours(1);

// A held call that says which one it is when sent or failed.
SlotGate::Held call(const std::string& name, std::vector<std::string>& log,
                    clock::time_point deadline = later) {
  return {RequestBuilder("SET").key("k").arg(name).build(),
          [name, &log](error_code error, Reply) {
            log.push_back(name + (error ? ":" + error.message() : ""));
          },
          deadline};
}

// Which calls these are, in order (by running their callbacks).
std::vector<std::string> names(std::vector<SlotGate::Held>& calls, std::vector<std::string>& log) {
  log.clear();
  for (auto& held : calls) held.done({}, {});
  return std::exchange(log, {});
}

TEST(SlotGate, HeldCallsGoOutInIssueOrderOnceTheLastFencePassed) {
  SlotGate gate;
  std::vector<std::string> log;
  EXPECT_FALSE(gate.is_closed(7));
  gate.close(7);
  gate.close(7);  // moved again before the first fence passed
  EXPECT_TRUE(gate.is_closed(7));
  EXPECT_FALSE(gate.is_closed(8));
  gate.hold(7, call("a", log));
  gate.hold(7, call("b", log));
  gate.hold(7, call("c", log));
  EXPECT_EQ(gate.held(), 3u);
  EXPECT_TRUE(gate.fence_passed(7, clock::now()).send.empty());
  EXPECT_TRUE(gate.is_closed(7)) << "one fence still out";
  auto released = gate.fence_passed(7, clock::now()).send;
  EXPECT_FALSE(gate.is_closed(7));
  EXPECT_TRUE(log.empty()) << "releasing runs no callback";
  EXPECT_EQ(gate.held(), 0u);
  EXPECT_EQ(names(released, log), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SlotGate, SlotsOpenIndependently) {
  SlotGate gate;
  std::vector<std::string> log;
  gate.close(1);
  gate.close(2);
  gate.hold(1, call("a", log));
  gate.hold(2, call("b", log));
  auto two = gate.fence_passed(2, clock::now()).send;
  EXPECT_EQ(names(two, log), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(gate.is_closed(1));
  EXPECT_EQ(gate.held(), 1u);
  EXPECT_TRUE(gate.fence_passed(3, clock::now()).send.empty()) << "a fence of a slot never closed";
}

TEST(SlotGate, ExpiredCallsLeaveInOrderAndTheRestKeepTheirs) {
  SlotGate gate;
  std::vector<std::string> log;
  const auto now = clock::now();
  gate.close(5);
  gate.hold(5, call("a", log, now));
  gate.hold(5, call("b", log, later));
  gate.hold(5, call("c", log, now - std::chrono::seconds(1)));
  EXPECT_EQ(gate.next_deadline(), now - std::chrono::seconds(1));
  auto expired = gate.expire(now);
  EXPECT_EQ(names(expired, log), (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(gate.is_closed(5));
  EXPECT_EQ(gate.next_deadline(), later);
  auto released = gate.fence_passed(5, clock::now()).send;
  EXPECT_EQ(names(released, log), (std::vector<std::string>{"b"}));
  EXPECT_FALSE(gate.next_deadline());
}

// The gate timer fails a held call at its deadline, but the slot may open
// first, between the deadline and the timer: that call is not sent.
TEST(SlotGate, ACallPastItsDeadlineWhenTheSlotOpensIsNotSent) {
  SlotGate gate;
  std::vector<std::string> log;
  const auto now = clock::now();
  gate.close(4);
  gate.hold(4, call("a", log, later));
  gate.hold(4, call("b", log, now));
  gate.hold(4, call("c", log, later));
  gate.hold(4, call("d", log, now - std::chrono::milliseconds(1)));
  auto released = gate.fence_passed(4, now);
  EXPECT_FALSE(gate.is_closed(4));
  EXPECT_EQ(gate.held(), 0u);
  EXPECT_EQ(names(released.send, log), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(names(released.expired, log), (std::vector<std::string>{"b", "d"}));
}

TEST(SlotGate, TakeAllEmptiesAndOpensEverySlot) {
  SlotGate gate;
  std::vector<std::string> log;
  gate.close(1);
  gate.close(9);
  gate.hold(1, call("a", log));
  gate.hold(9, call("b", log));
  auto all = gate.take_all();
  EXPECT_EQ(all.size(), 2u);
  EXPECT_FALSE(gate.is_closed(1));
  EXPECT_FALSE(gate.is_closed(9));
  EXPECT_EQ(gate.held(), 0u);
  for (auto& held : all) held.done(make_error_code(Errc::closed), {});
  EXPECT_EQ(log.size(), 2u);
}

}  // namespace
}  // namespace distkit::detail
