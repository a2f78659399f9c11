#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time from the committed seed corpus. Exits non-zero on the first
# crash, leak, undefined behaviour or timeout, leaving the input that caused
# it in the build directory.
#   fuzz/run.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-../build-fuzz}

cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2

for target in url reply_reader; do
  # New inputs go to a scratch corpus, so the committed seeds stay small.
  work=$(mktemp -d)
  trap 'rm -rf "$work" "$work.log"' EXIT
  echo "fuzz: $target for $seconds s"
  status=0
  (cd "$build" &&
    "./${target}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 "$work" "$OLDPWD/corpus/$target") >"$work.log" 2>&1 ||
    status=$?
  grep -E '^(stat::(number_of_executed_units|new_units_added|peak_rss_mb)|==[0-9]+==|SUMMARY)' \
    "$work.log" || true
  rm -rf "$work" "$work.log"
  trap - EXIT
  if [[ $status -ne 0 ]]; then
    echo "fuzz: $target failed (exit $status); the input is in $build" >&2
    exit 1
  fi
done
