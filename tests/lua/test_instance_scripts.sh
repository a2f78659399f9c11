#!/usr/bin/env bash
# Tests of the instance-aware counters' Lua scripts, run by Redis itself,
# each sent as prelude + instance_common + body as the library sends it.
# Needs REDIS_URL; every key lives under a per-process prefix, deleted on exit.
set -uo pipefail
: "${REDIS_URL:?REDIS_URL must be set}"
lua_dir="$(cd "$(dirname "$0")/../../src/counters/lua" && pwd)"
C="distkit-lua-instance-test:$$:instance_aware_counter"
failures=0 checks=0
MAX=9223372036854775807

cleanup() {
  redis-cli -u "$REDIS_URL" --scan --pattern "distkit-lua-instance-test:$$:*" | while read -r key; do
    redis-cli -u "$REDIS_URL" DEL "$key" >/dev/null
  done
}
trap cleanup EXIT

r() { redis-cli -u "$REDIS_URL" "$@"; }
cli() {
  redis-cli -u "$REDIS_URL" --no-raw "$@" |
    sed -E '/^\([0-9.]+s\)$/d; s/^ *[0-9]+\) //; s/^"(.*)"$/\1/'
}
source_of() {
  cat "$lua_dir/prelude.lua"; echo; cat "$lua_dir/instance_common.lua"; echo; cat "$lua_dir/$1.lua"
}
expect() {
  checks=$((checks + 1))
  if [[ "$3" != "$2" ]]; then
    failures=$((failures + 1))
    printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"
  fi
}
# update <me> <n_dead> <n_others> <ids...> -- <entries...>: the reply on one line.
update() {
  local me=$1 dead=$2 others=$3
  shift 3
  local ids=() keys=()
  while [[ $1 != -- ]]; do ids+=("$1"); keys+=("$C:count:$1"); shift; done
  shift
  cli EVAL "$(source_of instance_update)" $((5 + ${#keys[@]})) \
    "$C:epoch" "$C:instances" "$C:cumulative" "$C:keys" "$C:count:$me" "${keys[@]}" \
    "$me" 60000 0 "$dead" "$others" "${ids[@]}" "$@" | paste -sd' ' -
}

# --- sums, heartbeat, keys set ---------------------------------------------
expect "inc" "5 5   1" "$(update A 0 0 -- inc k nil 0 5)"
expect "inc by B" "8 3   1" "$(update B 0 0 -- inc k nil 0 3)"
expect "keys set" "k" "$(r SMEMBERS "$C:keys")"
expect "heartbeats" "2" "$(r ZCARD "$C:instances")"
expect "get" "8 5 8 5 1" "$(update A 0 0 -- get k nil 0 0)"

# --- malformed calls change nothing ----------------------------------------
expect "bad mode" "(error) ERR distkit: malformed entry 1" "$(update A 0 0 -- add k nil 0 1)"
expect "bad amount" "(error) ERR distkit: malformed entry 1" "$(update A 0 0 -- inc k nil 0 1.5)"
expect "bad op" "(error) ERR distkit: malformed entry 2" \
  "$(update A 0 0 -- inc k nil 0 1 inc k xx 0 1)"
expect "bad width" "(error) ERR distkit: malformed arguments" "$(update A 0 0 -- inc k nil 0)"
expect "unchanged" "8" "$(r HGET "$C:cumulative" k)"

# --- global writes declare every other instance ----------------------------
expect "set without B declared" "INSTANCES B" "$(update A 0 0 -- set k nil 0 1)"
expect "nothing set" "8 " "$(r HGET "$C:cumulative" k) $(r HGET "$C:epoch" k)"
expect "set with a wrong id" "INSTANCES B" "$(update A 0 1 X -- set k nil 0 1)"
expect "set" "1 1 8 5 1" "$(update A 0 1 B -- set k nil 0 1)"
expect "B's slice reset" "0 1" "$(r HEXISTS "$C:count:B" k) $(r HGET "$C:epoch" k)"
r HSET "$C:epoch" k $MAX >/dev/null
expect "epoch wraps like the Rust one" "0 0 1 1 1" "$(update A 0 1 B -- del k nil 0 0)"
expect "after del" "0 0 0" \
  "$(r HGET "$C:epoch" k) $(r HEXISTS "$C:cumulative" k) $(r SISMEMBER "$C:keys" k)"

# --- dead instances ----------------------------------------------------------
update B 0 0 -- inc k nil 0 4 >/dev/null
update A 0 0 -- inc k nil 0 1 >/dev/null
r ZADD "$C:instances" 1 B >/dev/null
expect "a dead instance is reported, nothing done" "DEAD B" "$(update A 0 0 -- inc k nil 0 1)"
expect "still 5" "5" "$(r HGET "$C:cumulative" k)"
expect "removed with its count hash declared" "2 2   1" "$(update A 1 0 B -- inc k nil 0 1)"
expect "forgotten" "0 " "$(r EXISTS "$C:count:B") $(r ZSCORE "$C:instances" B)"
update B 0 0 -- inc k nil 0 4 >/dev/null
expect "a live instance passed as dead is kept" "7 3   1" "$(update A 1 0 B -- inc k nil 0 1)"
expect "still there" "1 4" "$(r EXISTS "$C:count:B") $(r HGET "$C:count:B" k)"

# --- clear_on_instance and clear ---------------------------------------------
expect "clear_on_instance" "OK" "$(cli EVAL "$(source_of instance_clear_on_instance)" 5 \
  "$C:epoch" "$C:instances" "$C:cumulative" "$C:keys" "$C:count:A" A)"
expect "A's slices gone" "4 0" "$(r HGET "$C:cumulative" k) $(r EXISTS "$C:count:A")"
clear() {
  local keys=() ids=("$@")
  for id in "${ids[@]}"; do keys+=("$C:count:$id"); done
  cli EVAL "$(source_of instance_clear)" $((5 + ${#keys[@]})) "$C:epoch" "$C:instances" \
    "$C:cumulative" "$C:keys" "$C:count:A" "${keys[@]}" A "${#ids[@]}" "${ids[@]}" | paste -sd' ' -
}
expect "clear without B" "INSTANCES B" "$(clear)"
expect "clear" "OK" "$(clear B)"
expect "all gone" "" "$(r --scan --pattern "distkit-lua-instance-test:$$:*")"

if ((failures)); then
  echo "$failures of $checks instance script checks failed"
  exit 1
fi
echo "all $checks instance script checks passed"
