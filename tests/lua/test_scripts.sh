#!/usr/bin/env bash
# Unit tests of the Lua prelude's exact integer logic, run inside Redis
# (the scripts' real interpreter) with redis-cli. Needs REDIS_URL.
set -euo pipefail
lua_dir="$(dirname "$0")/../../src/counters/lua"
prelude=$(cat "$lua_dir/prelude.lua")
failures=0

# expect <expected output> <lua expression returning a string>
expect() {
  local expected=$1 expression=$2 actual
  actual=$(redis-cli -u "$REDIS_URL" EVAL "$prelude
return tostring($expression)" 0 2>&1)
  if [[ "$actual" != "$expected" ]]; then
    echo "FAIL: $expression: expected '$expected', got '$actual'"
    failures=$((failures + 1))
  fi
}

# Canonical int64: exactly what HINCRBY accepts.
for valid in 0 -1 7 9223372036854775807 -9223372036854775808 9007199254740993; do
  expect true "is_int64('$valid')"
done
for invalid in '' - -0 +1 007 ' 1' '1 ' 1.0 1e3 abc 9223372036854775808 -9223372036854775809 \
  99999999999999999999; do
  expect false "is_int64('$invalid')"
done

# Ordering of integers of any length, beyond what a double can tell apart.
expect 1 "compare_integers('9007199254740993', '9007199254740992')"
expect -1 "compare_integers('-9007199254740993', '-9007199254740992')"
expect 0 "compare_integers('-5', '-5')"
expect -1 "compare_integers('-10', '9')"
expect 1 "compare_integers('10', '9')"
expect -1 "compare_integers('9', '10')"
expect 1 "compare_integers('9223372036854775807', '-9223372036854775808')"
expect -1 "compare_integers('9223372036854775807', '18446744073709551615')"
expect 1 "compare_integers('-9223372036854775808', '-18446744073709551616')"
expect 1 "compare_integers('0', '-1')"

# Comparators.
expect true "matches('eq', '9007199254740993', '9007199254740993')"
expect false "matches('eq', '9007199254740993', '9007199254740992')"
expect true "matches('ne', '1', '2')"
expect true "matches('lt', '-2', '-1')"
expect false "matches('lt', '5', '5')"
expect true "matches('le', '5', '5')"
expect true "matches('gt', '100', '99')"
expect true "matches('ge', '0', '0')"
expect true "matches('nil', '-9223372036854775808', '0')"

if [[ $failures -ne 0 ]]; then
  echo "$failures Lua check(s) failed"
  exit 1
fi
echo "all Lua checks passed"
