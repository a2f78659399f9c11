// One row of the bench: distkit's number, its baseline's, and the issue's
// target for them.
#pragma once

#include <optional>
#include <string>

namespace distkit::tools {

// What the issue asks of a row.
struct Target {
  enum class Kind {
    none,
    ratio_at_most,   // distkit / baseline <= limit (latency, time, ns/op)
    ratio_at_least,  // distkit / baseline >= limit (throughput)
    value_below,     // distkit < limit
    value_at_most,   // distkit <= limit
  };
  Kind kind = Kind::none;
  double limit = 0;
  std::string note;  // shown after the limit, e.g. "(5x faster)"
};

struct BenchResult {
  std::string measurement;  // what was measured, e.g. "strict inc, 1 caller: p50 latency"
  std::string unit;         // "us", "ops/s", "ms", "ns/op", "calls", "bytes/key"
  double distkit = 0;
  std::string baseline_name;       // empty when the row has no baseline
  std::optional<double> baseline;  // in `unit`
  Target target;
  int concurrent_callers = 0;  // > 0: a point of the throughput chart
  // Microseconds of Redis CPU (main thread, user + system) per operation
  // (per entry for a batch) on each side, where measured.
  std::optional<double> distkit_redis_cpu_us = std::nullopt;
  std::optional<double> baseline_redis_cpu_us = std::nullopt;

  // distkit / baseline, when there is a baseline.
  std::optional<double> ratio() const;
  // "<= 1.15x", "< 250 ms", ...; empty without a target.
  std::string target_text() const;
  // Whether the target holds; nullopt without a target.
  std::optional<bool> target_met() const;
};

}  // namespace distkit::tools
