#include "client/request_queue.hpp"

#include <gtest/gtest.h>

#include "client/cluster_slot.hpp"
#include "client/script.hpp"
#include "distkit/error.hpp"
#include "replies.hpp"

namespace distkit::detail {
namespace {

using clock = RequestQueue::clock;
using boost::system::error_code;
using namespace test_replies;

struct Recorded {
  error_code error;
  Reply reply;
  bool called = false;
};

ReplyCallback record(Recorded& into) {
  return [&into](error_code error, Reply reply) { into = {error, std::move(reply), true}; };
}

void run(std::vector<RequestQueue::Finished>& finished) {
  for (auto& entry : finished) entry.run();
  finished.clear();
}

const auto later = clock::now() + std::chrono::hours(1);

TEST(RequestQueue, WritesEverythingQueuedInOneBufferAndMatchesRepliesInOrder) {
  RequestQueue queue;
  Recorded first, second;
  queue.push(RequestBuilder("PING").build(), record(first), later);
  queue.push(RequestBuilder("ECHO").arg("x").build(), record(second), later);
  std::string out;
  EXPECT_EQ(queue.take_writable(out), 2u);
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n");
  EXPECT_EQ(queue.in_flight(), 2u);
  std::vector<RequestQueue::Finished> finished;
  queue.on_reply(status("PONG"), finished);
  queue.on_reply(status("x"), finished);
  run(finished);
  EXPECT_EQ(first.reply.text, "PONG");
  EXPECT_EQ(second.reply.text, "x");
  EXPECT_EQ(queue.in_flight(), 0u);
}

TEST(RequestQueue, UnexpectedReplyIsAProtocolError) {
  RequestQueue queue;
  std::vector<RequestQueue::Finished> finished;
  EXPECT_THROW(queue.on_reply(status("OK"), finished), Error);
}

TEST(RequestQueue, NoscriptIsResentAsEvalAheadOfQueuedRequestsInIssueOrder) {
  const Script script("return 1");
  RequestQueue queue;
  Recorded a, b, c;
  queue.push(RequestBuilder(script, 0).arg("a").build(), record(a), later);
  queue.push(RequestBuilder(script, 0).arg("b").build(), record(b), later);
  std::string out;
  queue.take_writable(out);
  queue.push(RequestBuilder("PING").build(), record(c), later);

  std::vector<RequestQueue::Finished> finished;
  EXPECT_EQ(queue.on_reply(error_reply("NOSCRIPT No matching script."), finished),
            Refusal::noscript);
  // Nothing is written while a request written before the refusal is
  // unanswered: it could still be refused too.
  EXPECT_FALSE(queue.refused_ready());
  out.clear();
  EXPECT_EQ(queue.take_writable(out), 0u);
  EXPECT_EQ(queue.on_reply(error_reply("NOSCRIPT No matching script."), finished),
            Refusal::noscript);
  EXPECT_TRUE(finished.empty());
  ASSERT_TRUE(queue.refused_ready());
  queue.resume_refused();
  EXPECT_EQ(queue.take_writable(out), 3u);
  const auto eval_a = out.find("$4\r\nEVAL\r\n");
  const auto arg_a = out.find("$1\r\na\r\n");
  const auto arg_b = out.find("$1\r\nb\r\n");
  const auto ping = out.find("PING");
  EXPECT_EQ(eval_a, 4u);
  EXPECT_LT(arg_a, arg_b);
  EXPECT_LT(arg_b, ping);

  // A NOSCRIPT for an EVAL is a real error and reaches the caller.
  EXPECT_FALSE(queue.on_reply(error_reply("NOSCRIPT still"), finished));
  run(finished);
  EXPECT_TRUE(a.called);
  EXPECT_TRUE(a.reply.is_error());
}

TEST(RequestQueue, CountsTheScriptCallsAnsweredButNotRefusedOnesOrPlainCommands) {
  const Script script("return 1");
  RequestQueue queue;
  Recorded a, b, c, d;
  queue.push(RequestBuilder(script, 0).build(), record(a), later);
  queue.push(RequestBuilder("PING").build(), record(b), later);
  queue.push(RequestBuilder(script, 0).build(), record(c), later);
  queue.push(RequestBuilder(script, 0).build(), record(d), later);
  std::string out;
  queue.take_writable(out);
  std::vector<RequestQueue::Finished> finished;
  queue.on_reply(bulk("1"), finished);
  EXPECT_EQ(queue.scripts_answered(), 1u);
  queue.on_reply(status("PONG"), finished);
  EXPECT_EQ(queue.scripts_answered(), 1u);
  queue.on_reply(error_reply("ERR user_script:1: boom"), finished);  // ran, and failed
  EXPECT_EQ(queue.scripts_answered(), 2u);
  queue.on_reply(error_reply("NOSCRIPT No matching script."), finished);  // not run
  EXPECT_EQ(queue.scripts_answered(), 2u);
}

TEST(RequestQueue, ARefusedRequestOvertakenByALaterOneFailsUnrun) {
  const Script script("return 1");
  RequestQueue queue;
  Recorded inc, set;
  queue.push(RequestBuilder(script, 0).arg("inc").build(), record(inc), later);
  queue.push(RequestBuilder("HSET").arg("h").arg("k").arg("0").build(), record(set), later);
  std::string out;
  queue.take_writable(out);
  std::vector<RequestQueue::Finished> finished;
  EXPECT_EQ(queue.on_reply(error_reply("NOSCRIPT No matching script."), finished),
            Refusal::noscript);
  EXPECT_FALSE(queue.on_reply(status("0"), finished));
  run(finished);
  // Running the script now would apply it after the HSET issued later.
  EXPECT_EQ(inc.error, Errc::connection);
  EXPECT_EQ(set.reply.text, "0");
  EXPECT_EQ(queue.refused(), 0u);
}

TEST(RequestQueue, RedirectionsHandBackTheRequestWhole) {
  RequestQueue queue;
  Recorded moved, asked, ran;
  queue.push(RequestBuilder("HINCRBY").key("{a}").arg("f").arg(std::int64_t{1}).build(),
             record(moved), later, 2);
  queue.push(RequestBuilder("GET").key("{b}").build(), record(asked), later);
  queue.push(RequestBuilder("GET").key("{c}").build(), record(ran), later);
  std::string out;
  queue.take_writable(out);
  std::vector<RequestQueue::Finished> finished;
  std::vector<RequestQueue::Redirected> redirected;
  EXPECT_FALSE(queue.on_reply(error_reply("MOVED 15495 127.0.0.1:7002"), finished, &redirected));
  EXPECT_FALSE(queue.on_reply(error_reply("ASK 3300 127.0.0.1:7003"), finished, &redirected));
  EXPECT_FALSE(queue.on_reply(bulk("c"), finished, &redirected));
  run(finished);
  // Neither callback ran: the requests, their callbacks and deadlines and
  // the redirections come back, in order, to be sent on.
  EXPECT_FALSE(moved.called);
  EXPECT_FALSE(asked.called);
  EXPECT_EQ(ran.reply.text, "c");
  ASSERT_EQ(redirected.size(), 2u);
  EXPECT_EQ(std::string(redirected[0].request.head()) + std::string(redirected[0].request.tail()),
            "*4\r\n$7\r\nHINCRBY\r\n$3\r\n{a}\r\n$1\r\nf\r\n$1\r\n1\r\n");
  EXPECT_EQ(redirected[0].request.slot(), std::int32_t{cluster_key_slot("{a}")});
  EXPECT_EQ(redirected[0].redirects, 2);
  EXPECT_EQ(redirected[0].deadline, later);
  EXPECT_EQ(redirected[0].reply.text, "MOVED 15495 127.0.0.1:7002");
  EXPECT_EQ(redirected[1].redirects, 0);
  EXPECT_EQ(redirected[1].reply.text, "ASK 3300 127.0.0.1:7003");
  redirected[1].done({}, bulk("b"));
  EXPECT_EQ(asked.reply.text, "b");
  EXPECT_EQ(queue.in_flight(), 0u);
}

TEST(RequestQueue, AskingGoesBeforeARequestEachTimeItIsSent) {
  RequestQueue queue;
  Recorded asked;
  queue.push(RequestBuilder("GET").key("k").build(), record(asked), later, 1, true);
  std::string out;
  EXPECT_EQ(queue.take_writable(out), 1u);
  EXPECT_EQ(out, "*1\r\n$6\r\nASKING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  std::vector<RequestQueue::Finished> finished;
  EXPECT_FALSE(queue.on_reply(status("OK"), finished)) << "ASKING's reply is not the request's";
  EXPECT_EQ(queue.in_flight(), 1u);
  // Refused on the importing node: sent again, after ASKING again (without
  // it the node would redirect it back to where it came from).
  EXPECT_EQ(queue.on_reply(error_reply("TRYAGAIN Multiple keys request during rehashing of slot"),
                           finished),
            Refusal::passing);
  ASSERT_TRUE(queue.refused_ready());
  queue.resume_refused();
  out.clear();
  EXPECT_EQ(queue.take_writable(out), 1u);
  EXPECT_EQ(out.rfind("*1\r\n$6\r\nASKING\r\n", 0), 0u) << out;
  queue.on_reply(status("OK"), finished);
  queue.on_reply(bulk("v"), finished);
  run(finished);
  EXPECT_EQ(asked.reply.text, "v");
  EXPECT_EQ(queue.in_flight(), 0u);
}

TEST(RequestQueue, WithoutHandBackARedirectionIsTheReply) {
  RequestQueue queue;
  Recorded moved;
  queue.push(RequestBuilder("GET").key("k").build(), record(moved), later);
  std::string out;
  queue.take_writable(out);
  std::vector<RequestQueue::Finished> finished;
  EXPECT_FALSE(queue.on_reply(error_reply("MOVED 12539 127.0.0.1:7002"), finished));
  run(finished);
  EXPECT_EQ(moved.reply.text, "MOVED 12539 127.0.0.1:7002");
}

TEST(RequestQueue, ARedirectedRequestNobodyWaitsForIsDropped) {
  RequestQueue queue;
  const auto now = clock::now();
  Recorded expired;
  queue.push(RequestBuilder("GET").key("k").build(), record(expired), now);
  std::string out;
  queue.take_writable(out);
  std::vector<RequestQueue::Finished> finished;
  queue.expire(now, make_error_code(Errc::connection), finished);
  run(finished);
  EXPECT_EQ(expired.error, Errc::timeout);
  std::vector<RequestQueue::Redirected> redirected;
  EXPECT_FALSE(queue.on_reply(error_reply("MOVED 12539 127.0.0.1:7002"), finished, &redirected));
  EXPECT_TRUE(redirected.empty());
  EXPECT_TRUE(finished.empty());
}

// Sent on at once, the redirected request would run before the refused
// one of its slot, which is retried here first. A redirected request of
// another slot is sent on, and leaves the refused one free to run.
TEST(RequestQueue, ARedirectionBehindARefusedRequestOfItsSlotIsSentAgainAfterIt) {
  RequestQueue queue;
  Recorded refused, behind, other_slot;
  const auto slot = std::int32_t{cluster_key_slot("{k}")};
  queue.push(RequestBuilder("EVAL").key("{k}a").key("{k}b").build(), record(refused), later, 0,
             false, slot);
  queue.push(RequestBuilder("GET").key("{k}b").build(), record(behind), later, 0, false, slot);
  queue.push(RequestBuilder("GET").key("x").build(), record(other_slot), later, 0, false,
             std::int32_t{cluster_key_slot("x")});
  std::string out;
  queue.take_writable(out);
  std::vector<RequestQueue::Finished> finished;
  std::vector<RequestQueue::Redirected> redirected;
  EXPECT_EQ(queue.on_reply(error_reply("TRYAGAIN Multiple keys request during rehashing of slot"),
                           finished, &redirected),
            Refusal::passing);
  EXPECT_FALSE(queue.on_reply(error_reply("ASK 1 127.0.0.1:7003"), finished, &redirected));
  EXPECT_FALSE(queue.on_reply(error_reply("MOVED 2 127.0.0.1:7002"), finished, &redirected));
  ASSERT_EQ(redirected.size(), 1u) << "only the request of another slot is sent on";
  EXPECT_EQ(redirected[0].request.slot(), std::int32_t{cluster_key_slot("x")});
  EXPECT_TRUE(finished.empty());
  EXPECT_EQ(queue.refused(), 2u);
  ASSERT_TRUE(queue.refused_ready());
  queue.resume_refused();
  out.clear();
  EXPECT_EQ(queue.take_writable(out), 2u);
  EXPECT_LT(out.find("EVAL"), out.find("GET")) << out;
  // Answered now: the refused request ran, and the one behind it is
  // redirected again, to be sent on.
  EXPECT_FALSE(queue.on_reply(bulk("ran"), finished, &redirected));
  EXPECT_FALSE(queue.on_reply(error_reply("ASK 1 127.0.0.1:7003"), finished, &redirected));
  run(finished);
  EXPECT_EQ(refused.reply.text, "ran");
  EXPECT_FALSE(behind.called);
  ASSERT_EQ(redirected.size(), 2u);
  EXPECT_EQ(redirected[1].request.slot(), slot);
  EXPECT_EQ(queue.in_flight(), 0u);
}

TEST(RequestQueue, PassingStatesAreRetriedInOrderAndExpireAsUnsent) {
  RequestQueue queue;
  const auto now = clock::now();
  Recorded a, b, c;
  queue.push(RequestBuilder("A").build(), record(a), later);
  queue.push(RequestBuilder("B").build(), record(b), now);
  std::string out;
  queue.take_writable(out);
  queue.push(RequestBuilder("C").build(), record(c), later);
  std::vector<RequestQueue::Finished> finished;
  EXPECT_EQ(queue.on_reply(error_reply("LOADING Redis is loading the dataset in memory"), finished),
            Refusal::passing);
  EXPECT_EQ(queue.on_reply(error_reply("READONLY You can't write against a read only replica."),
                           finished),
            Refusal::relocate);
  ASSERT_TRUE(queue.refused_ready());
  EXPECT_EQ(queue.next_deadline(), now);
  queue.expire(now, make_error_code(Errc::timeout), finished);
  run(finished);
  EXPECT_EQ(b.error, Errc::timeout);
  EXPECT_FALSE(a.called);
  queue.resume_refused();
  out.clear();
  EXPECT_EQ(queue.take_writable(out), 2u);
  EXPECT_LT(out.find("$1\r\nA"), out.find("$1\r\nC"));
  queue.on_reply(status("a"), finished);
  queue.on_reply(status("c"), finished);
  run(finished);
  EXPECT_EQ(a.reply.text, "a");
  EXPECT_EQ(c.reply.text, "c");
}

TEST(RequestQueue, RefusedRequestsSurviveADisconnect) {
  RequestQueue queue;
  Recorded a, b;
  queue.push(RequestBuilder("A").build(), record(a), later);
  queue.push(RequestBuilder("B").build(), record(b), later);
  std::string out;
  queue.take_writable(out);
  std::vector<RequestQueue::Finished> finished;
  queue.on_reply(error_reply("MASTERDOWN Link with MASTER is down"), finished);
  queue.fail_in_flight(make_error_code(Errc::connection), finished);
  run(finished);
  EXPECT_EQ(b.error, Errc::connection);  // may have run: not retried
  EXPECT_FALSE(a.called);                // refused, so never ran: retried
  ASSERT_TRUE(queue.refused_ready());
  queue.resume_refused();
  EXPECT_EQ(queue.queued(), 1u);
}

TEST(RequestQueue, ExpiryTimesOutInFlightAndSwallowsTheLateReply) {
  RequestQueue queue;
  const auto now = clock::now();
  Recorded sent, queued, fresh;
  queue.push(RequestBuilder("A").build(), record(sent), now);
  std::string out;
  queue.take_writable(out);
  queue.push(RequestBuilder("B").build(), record(queued), now);
  queue.push(RequestBuilder("C").build(), record(fresh), later);
  EXPECT_EQ(queue.next_deadline(), now);

  std::vector<RequestQueue::Finished> finished;
  queue.expire(now, make_error_code(Errc::connection), finished);
  run(finished);
  EXPECT_EQ(sent.error, Errc::timeout);
  EXPECT_EQ(queued.error, Errc::connection);
  EXPECT_FALSE(fresh.called);
  EXPECT_EQ(queue.queued(), 1u);
  EXPECT_EQ(queue.next_deadline(), later);

  // The late reply of A must not be given to C.
  out.clear();
  queue.take_writable(out);
  queue.on_reply(status("late A"), finished);
  queue.on_reply(status("C"), finished);
  run(finished);
  EXPECT_EQ(fresh.reply.text, "C");
}

TEST(RequestQueue, DisconnectFailsInFlightButKeepsQueued) {
  RequestQueue queue;
  Recorded sent, queued;
  queue.push(RequestBuilder("A").build(), record(sent), later);
  std::string out;
  queue.take_writable(out);
  queue.push(RequestBuilder("B").build(), record(queued), later);
  std::vector<RequestQueue::Finished> finished;
  queue.fail_in_flight(make_error_code(Errc::connection), finished);
  run(finished);
  EXPECT_EQ(sent.error, Errc::connection);
  EXPECT_FALSE(queued.called);
  queue.fail_all(make_error_code(Errc::closed), finished);
  run(finished);
  EXPECT_EQ(queued.error, Errc::closed);
}

// A fence: `passed` once nothing pushed before it remains.
struct Fence {
  bool passed = false;
  ReplyCallback callback() {
    return [this](error_code error, Reply) {
      EXPECT_FALSE(error);
      passed = true;
    };
  }
};

// Fences are for slot 5; the queue takes the slots it is given.
constexpr std::int32_t fenced = 5;

TEST(RequestQueue, AFenceWithNoRequestOfItsSlotBeforeItPassesAtOnce) {
  RequestQueue queue;
  Recorded other;
  Fence fence;
  queue.push(RequestBuilder("GET").key("x").build(), record(other), later, 0, false, 6);
  queue.push_fence(fenced, fence.callback());
  std::vector<RequestQueue::Finished> finished;
  queue.settle_fences(finished);
  run(finished);
  EXPECT_TRUE(fence.passed);
  EXPECT_FALSE(other.called);
  EXPECT_EQ(queue.queued(), 1u);
}

TEST(RequestQueue, AFencePassesOnceEveryEarlierRequestOfItsSlotIsAnsweredOrRedirected) {
  RequestQueue queue;
  Recorded a, b, other, c;
  Fence fence;
  queue.push(RequestBuilder("GET").key("a").build(), record(a), later, 0, false, fenced);
  queue.push(RequestBuilder("GET").key("b").build(), record(b), later, 0, false, fenced);
  queue.push(RequestBuilder("CLUSTER").arg("SLOTS").build(), record(other), later);
  queue.push_fence(fenced, fence.callback());
  queue.push(RequestBuilder("GET").key("c").build(), record(c), later, 0, false, fenced);
  std::vector<RequestQueue::Finished> finished;
  queue.settle_fences(finished);
  std::string out;
  EXPECT_EQ(queue.take_writable(out), 4u) << "the fence is not sent";
  std::vector<RequestQueue::Redirected> redirected;
  queue.on_reply(bulk("a"), finished, &redirected);
  run(finished);
  EXPECT_FALSE(fence.passed);
  queue.on_reply(error_reply("MOVED 3300 127.0.0.1:7003"), finished, &redirected);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(redirected.size(), 1u) << "b came back before the fence passed";
  run(finished);
  EXPECT_TRUE(fence.passed) << "a request without keys does not hold the fence up";
  queue.on_reply(status("slots"), finished, &redirected);
  queue.on_reply(bulk("c"), finished, &redirected);
  run(finished);
  EXPECT_EQ(other.reply.text, "slots");
  EXPECT_EQ(c.reply.text, "c");
  EXPECT_EQ(queue.in_flight(), 0u);
}

TEST(RequestQueue, AFenceKeepsItsPlaceAmongRefusedRequests) {
  RequestQueue queue;
  Recorded a, b;
  Fence fence;
  queue.push(RequestBuilder("A").build(), record(a), later, 0, false, fenced);
  queue.push_fence(fenced, fence.callback());
  queue.push(RequestBuilder("B").build(), record(b), later, 0, false, fenced);
  std::string out;
  queue.take_writable(out);
  std::vector<RequestQueue::Finished> finished;
  const auto tryagain = error_reply("TRYAGAIN Multiple keys request during rehashing of slot");
  EXPECT_EQ(queue.on_reply(tryagain, finished), Refusal::passing);
  EXPECT_EQ(queue.on_reply(tryagain, finished), Refusal::passing);
  run(finished);
  EXPECT_FALSE(fence.passed) << "A is still to be sent again";
  ASSERT_TRUE(queue.refused_ready());
  queue.resume_refused();
  out.clear();
  EXPECT_EQ(queue.take_writable(out), 2u);
  queue.on_reply(status("a"), finished);
  run(finished);
  EXPECT_TRUE(fence.passed);
  EXPECT_FALSE(b.called);
  queue.on_reply(status("b"), finished);
  run(finished);
  EXPECT_EQ(b.reply.text, "b");
}

TEST(RequestQueue, AFencePassesWhenWhatIsBeforeItExpiresOrFails) {
  RequestQueue queue;
  const auto now = clock::now();
  Recorded sent, unsent;
  Fence after_sent, after_unsent;
  queue.push(RequestBuilder("A").build(), record(sent), later, 0, false, fenced);
  queue.push_fence(fenced, after_sent.callback());
  std::string out;
  queue.take_writable(out);
  queue.push(RequestBuilder("B").build(), record(unsent), now, 0, false, fenced);
  queue.push_fence(fenced, after_unsent.callback());
  std::vector<RequestQueue::Finished> finished;
  queue.settle_fences(finished);
  queue.expire(now, make_error_code(Errc::timeout), finished);
  run(finished);
  EXPECT_EQ(unsent.error, Errc::timeout);
  EXPECT_FALSE(after_unsent.passed) << "A, before both fences, is still in flight";
  EXPECT_EQ(queue.next_deadline(), later) << "fences have no deadline";
  queue.fail_in_flight(make_error_code(Errc::connection), finished);
  run(finished);
  EXPECT_EQ(sent.error, Errc::connection);
  EXPECT_TRUE(after_sent.passed);
  EXPECT_TRUE(after_unsent.passed);
  EXPECT_EQ(queue.queued(), 0u);
  EXPECT_EQ(queue.refused(), 0u);
}

}  // namespace
}  // namespace distkit::detail
