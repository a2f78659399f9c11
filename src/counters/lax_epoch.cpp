#include "counters/lax_epoch.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace distkit::detail {
namespace lax_epoch_internal {
namespace {

std::atomic<Record*> records{nullptr};

bool register_membarrier() {
  const long commands = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  return commands >= 0 && (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
         syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

// Gives the record back when its thread ends.
struct RecordOwner {
  Record* record = nullptr;
  ~RecordOwner() {
    thread_record = nullptr;
    if (record != nullptr) record->in_use.store(false, std::memory_order_release);
  }
};

}  // namespace

alignas(64) std::atomic<std::uint64_t> current_epoch{1};
// Decided during static initialization, before any section can run.
bool have_membarrier = register_membarrier();
constinit thread_local Record* thread_record = nullptr;

Record* register_thread() {
  Record* record = nullptr;
  for (Record* r = records.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    bool in_use = false;
    if (!r->in_use.load(std::memory_order_relaxed) &&
        r->in_use.compare_exchange_strong(in_use, true, std::memory_order_acquire)) {
      record = r;
      break;
    }
  }
  if (record == nullptr) {
    record = new Record;
    record->next = records.load(std::memory_order_relaxed);
    while (!records.compare_exchange_weak(record->next, record, std::memory_order_acq_rel)) {
    }
  }
  thread_local RecordOwner owner;
  owner.record = record;
  thread_record = record;
  return record;
}

}  // namespace lax_epoch_internal

using namespace lax_epoch_internal;

std::uint64_t lax_advance_epoch() {
  const std::uint64_t ended = current_epoch.fetch_add(1, std::memory_order_acq_rel);
  if (have_membarrier) {
    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return ended;
}

bool lax_epoch_passed(std::uint64_t epoch) {
  for (Record* r = records.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    const std::uint64_t active = r->active.load(std::memory_order_acquire);
    if (active != 0 && active <= epoch) return false;
  }
  return true;
}

}  // namespace distkit::detail
