#!/usr/bin/env bash
# Tests of the instance-aware counters' Lua scripts, run by Redis itself,
# each sent as strict_int64 + strict_order + prelude + instance_common + body,
# as the library sends it.
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
  cat "$lua_dir/strict_int64.lua"; echo; cat "$lua_dir/strict_order.lua"; echo
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
  while [[ $1 != -- ]]; do
    ids+=("$1")
    keys+=("$C:count:$1")
    # A dead instance's slice_epoch hash is declared too.
    if ((${#ids[@]} <= dead)); then keys+=("$C:slice_epoch:$1"); fi
    shift
  done
  shift
  cli EVAL "$(source_of instance_update)" $((6 + ${#keys[@]})) \
    "$C:epoch" "$C:instances" "$C:cumulative" "$C:keys" "$C:count:$me" "$C:slice_epoch:$me" \
    "${keys[@]}" \
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
r SET "$C:keys" str >/dev/null
expect "a wrong-type key set is refused after the increments" "1" \
  "$(update A 0 0 -- inc fresh nil 0 5 | grep -c WRONGTYPE)"
expect "and they are undone" "0 0" "$(r HEXISTS "$C:count:A" fresh) $(r HEXISTS "$C:cumulative" fresh)"
r DEL "$C:keys" >/dev/null
r SADD "$C:keys" k >/dev/null

# --- global writes declare every other instance ----------------------------
expect "set without B declared" "INSTANCES B" "$(update A 0 0 -- set k nil 0 1)"
expect "nothing set" "8 " "$(r HGET "$C:cumulative" k) $(r HGET "$C:epoch" k)"
expect "set with a wrong id" "INSTANCES B" "$(update A 0 1 X -- set k nil 0 1)"
expect "set" "1 1 8 5 1" "$(update A 0 1 B -- set k nil 0 1)"
expect "B's slice reset" "0 1" "$(r HEXISTS "$C:count:B" k) $(r HGET "$C:epoch" k)"
# (Moving the epoch by hand stales A's slice too: it reads as 0 before.)
r HSET "$C:epoch" k $MAX >/dev/null
expect "epoch wraps like the Rust one" "0 0 1 0 1" "$(update A 0 1 B -- del k nil 0 0)"
expect "after del" "0 0 0" \
  "$(r HGET "$C:epoch" k) $(r HEXISTS "$C:cumulative" k) $(r SISMEMBER "$C:keys" k)"

# --- epochs: a slice written under an older epoch no longer counts ----------
# What a Rust process's set(k2, 10) leaves: its own slice and the cumulative
# set, the epoch bumped, every other slice untouched (stale).
update A 0 0 -- inc k2 nil 0 7 >/dev/null
r HSET "$C:epoch" k2 3 >/dev/null
r HSET "$C:cumulative" k2 10 >/dev/null
expect "a stale slice reads as 0" "10 0 10 0 1" "$(update A 0 0 -- get k2 nil 0 0)"
expect "reset, the epoch recorded" "0 3" "$(r HEXISTS "$C:count:A" k2) $(r HGET "$C:slice_epoch:A" k2)"
expect "the next inc starts afresh" "12 2   1" "$(update A 0 0 -- inc k2 nil 0 2)"
expect "then counts on" "13 3   1" "$(update A 0 0 -- inc k2 nil 0 1)"
r HSET "$C:epoch" k2 4 >/dev/null
r HSET "$C:cumulative" k2 20 >/dev/null
r HSET "$C:cumulative" big $MAX >/dev/null
expect "an overflow undoes the reset too" "(error) OVERFLOW 2" \
  "$(update A 0 0 -- inc k2 nil 0 1 inc big nil 0 1)"
expect "still stale, still 3" "3 3" "$(r HGET "$C:count:A" k2) $(r HGET "$C:slice_epoch:A" k2)"
expect "seti on a stale slice moves the total by the whole value" "25 5 20 0 1" \
  "$(update A 0 0 -- seti k2 nil 0 5)"
r HDEL "$C:cumulative" big >/dev/null
r DEL "$C:count:A" "$C:slice_epoch:A" >/dev/null
r HDEL "$C:cumulative" k2 >/dev/null
r HDEL "$C:epoch" k2 >/dev/null
r SREM "$C:keys" k2 >/dev/null
update A 0 0 -- >/dev/null
expect "the heartbeat marks the slice_epoch hash" "1" "$(r HGET "$C:slice_epoch:A" '')"
expect "which expires on its own" "1" "$(($(r PTTL "$C:slice_epoch:A") > 3000000))"

# --- dead instances ----------------------------------------------------------
update B 0 0 -- inc k nil 0 4 >/dev/null
update A 0 0 -- inc k nil 0 1 >/dev/null
r ZADD "$C:instances" 1 B >/dev/null
expect "a dead instance is reported, nothing done" "DEAD B" "$(update A 0 0 -- inc k nil 0 1)"
expect "still 5" "5" "$(r HGET "$C:cumulative" k)"
expect "removed with its count hash declared" "2 2   1" "$(update A 1 0 B -- inc k nil 0 1)"
expect "forgotten" "0 " "$(r EXISTS "$C:count:B") $(r ZSCORE "$C:instances" B)"
# A dead distkit C++ instance's stale slice is not subtracted; a Rust one's
# (no slice_epoch hash) all are.
update B 0 0 -- >/dev/null
update B 0 0 -- inc k nil 0 4 >/dev/null
update B 0 0 -- inc j nil 0 6 >/dev/null
r HINCRBY "$C:epoch" j 1 >/dev/null
r HSET "$C:cumulative" j 1 >/dev/null
r ZADD "$C:instances" 1 B >/dev/null
update A 1 0 B -- get k nil 0 0 >/dev/null
expect "only B's fresh slice subtracted" "2 1" "$(r HGET "$C:cumulative" k) $(r HGET "$C:cumulative" j)"
expect "B's records gone" "0 0" "$(r EXISTS "$C:count:B") $(r EXISTS "$C:slice_epoch:B")"
r HDEL "$C:cumulative" j >/dev/null
r HDEL "$C:epoch" j >/dev/null
r SREM "$C:keys" j >/dev/null
update B 0 0 -- inc k nil 0 4 >/dev/null
expect "a live instance passed as dead is kept" "7 3   1" "$(update A 1 0 B -- inc k nil 0 1)"
expect "still there" "1 4" "$(r EXISTS "$C:count:B") $(r HGET "$C:count:B" k)"

# --- clear_on_instance and clear ---------------------------------------------
expect "clear_on_instance" "OK" "$(cli EVAL "$(source_of instance_clear_on_instance)" 6 \
  "$C:epoch" "$C:instances" "$C:cumulative" "$C:keys" "$C:count:A" "$C:slice_epoch:A" A)"
expect "A's slices gone" "4 0" "$(r HGET "$C:cumulative" k) $(r EXISTS "$C:count:A")"
clear() {
  local keys=() ids=("$@")
  for id in "${ids[@]}"; do keys+=("$C:count:$id" "$C:slice_epoch:$id"); done
  cli EVAL "$(source_of instance_clear)" $((6 + ${#keys[@]})) "$C:epoch" "$C:instances" \
    "$C:cumulative" "$C:keys" "$C:count:A" "$C:slice_epoch:A" "${keys[@]}" A "${#ids[@]}" \
    "${ids[@]}" | paste -sd' ' -
}
expect "clear without B" "INSTANCES B" "$(clear)"
expect "clear" "OK" "$(clear B)"
expect "all gone" "" "$(r --scan --pattern "distkit-lua-instance-test:$$:*")"

# --- the lax flush (instance_lax_flush): exactly-once chunks ----------------
# flush <me> <seq> <oldest|next> <field delta>...: the reply on one line.
flush() {
  local me=$1 seq=$2 order=$3
  shift 3
  cli EVAL "$(source_of instance_lax_flush)" 8 "$C:epoch" "$C:instances" "$C:cumulative" \
    "$C:keys" "$C:count:$me" "$C:slice_epoch:$me" "$C:flushed:$me" "$C:set_aside" "$me" "$seq" \
    "$order" 60000 "$@" |
    paste -sd' ' -
}
r HSET "$C:cumulative" f 10 >/dev/null
expect "first chunk" "applied" "$(flush L 1 oldest f 5 g 2)"
expect "slice, cumulative, keys" "5 15 2 2 1 1" "$(r HGET "$C:count:L" f) $(r HGET "$C:cumulative" f) \
$(r HGET "$C:count:L" g) $(r HGET "$C:cumulative" g) $(r SISMEMBER "$C:keys" g) $(r GET "$C:flushed:L")"
expect "record expires" "1" "$(($(r PTTL "$C:flushed:L") > 0))"
expect "heartbeat" "1" "$(($(r ZSCORE "$C:instances" L) > 0))"
expect "a retried chunk is a duplicate" "duplicate" "$(flush L 1 oldest f 5)"
expect "a chunk after a missing one is a gap" "gap" "$(flush L 3 next f 1)"
expect "nothing written twice" "5 15" "$(r HGET "$C:count:L" f) $(r HGET "$C:cumulative" f)"
expect "the next chunk" "applied" "$(flush L 2 next f 1)"
expect "beyond 2^53, exact" "applied" "$(flush L 3 next f 9007199254740993)"
expect "exact sums" "9007199254740999 9007199254741009" \
  "$(r HGET "$C:count:L" f) $(r HGET "$C:cumulative" f)"
r HSET "$C:cumulative" h $MAX >/dev/null
r HSET "$C:cumulative" bad x >/dev/null
expect "overflow and a non-integer are set aside, the rest applies" "applied (integer) 1 (integer) 2" \
  "$(flush L 4 next h 1 bad 2 g 1)"
expect "set aside" "1 h 2 bad" "$(r LRANGE "$C:set_aside" 0 -1 | paste -sd' ' -)"
expect "no slice took them" "0 0 $MAX 3" \
  "$(r HEXISTS "$C:count:L" h) $(r HEXISTS "$C:count:L" bad) $(r HGET "$C:cumulative" h) \
$(r HGET "$C:count:L" g)"
# A slice staled by a global write elsewhere starts afresh with the delta.
r HSET "$C:epoch" g 2 >/dev/null
r HSET "$C:cumulative" g 100 >/dev/null
expect "flush onto a stale slice" "applied" "$(flush L 5 next g 4)"
expect "the stale 3 dropped, the total moved by the delta" "4 104 2" \
  "$(r HGET "$C:count:L" g) $(r HGET "$C:cumulative" g) $(r HGET "$C:slice_epoch:L" g)"
expect "then counts on" "applied 5 105" \
  "$(flush L 6 next g 1) $(r HGET "$C:count:L" g) $(r HGET "$C:cumulative" g)"
r SET "$C:flushed:W" x >/dev/null
r HSET "$C:count:W" f 1 >/dev/null
r DEL "$C:count:W" >/dev/null
r SET "$C:count:W" str >/dev/null
expect "a wrong-type hash fails before any write" "1" \
  "$(flush W 1 oldest f 1 | grep -c WRONGTYPE)"
r DEL "$C:count:W" >/dev/null
for late in keys set_aside instances; do
  r SET "$C:$late" str >/dev/null
  expect "a wrong-type $late fails before any write" "1 0 0" \
    "$(flush W 1 oldest fresh 1 | grep -c WRONGTYPE) $(r HEXISTS "$C:count:W" fresh) \
$(r HEXISTS "$C:cumulative" fresh)"
  r DEL "$C:$late" >/dev/null
done
r DEL "$C:flushed:W" "$C:count:W" "$C:flushed:L" "$C:set_aside" >/dev/null
r DEL "$C:cumulative" "$C:keys" "$C:count:L" "$C:instances" "$C:epoch" "$C:slice_epoch:L" \
  "$C:slice_epoch:A" "$C:slice_epoch:B" >/dev/null

if ((failures)); then
  echo "$failures of $checks instance script checks failed"
  exit 1
fi
echo "all $checks instance script checks passed"
