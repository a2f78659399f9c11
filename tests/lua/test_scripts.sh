#!/usr/bin/env bash
# Tests of the counters' Lua scripts, run by Redis itself through redis-cli,
# each composed exactly as the library sends it (see source_of).
# Needs REDIS_URL; every key made lives under a per-process prefix and is
# deleted on exit.
set -uo pipefail
: "${REDIS_URL:?REDIS_URL must be set}"
lua_dir="$(cd "$(dirname "$0")/../../src/counters/lua" && pwd)"
prefix="distkit-lua-test:$$"
H="$prefix:hash" R="$prefix:record"
failures=0 checks=0

MAX=9223372036854775807 MIN=-9223372036854775808

cleanup() {
  redis-cli -u "$REDIS_URL" --scan --pattern "$prefix:*" | while read -r key; do
    redis-cli -u "$REDIS_URL" DEL "$key" >/dev/null
  done
}
trap cleanup EXIT

# One reply element per line, unquoted; errors read "(error) <message>".
# (--no-raw so that errors can be told from strings.)
cli() {
  redis-cli -u "$REDIS_URL" --no-raw "$@" |
    sed -E '/^\([0-9.]+s\)$/d; s/^ *[0-9]+\) //; s/^\(integer\) //; s/^"(.*)"$/\1/; s/\\"/"/g'
}
# As src/counters/scripts.cpp composes them.
source_of() {
  case $1 in
    lax_flush) ;;
    lax_*) cat "$lua_dir/strict_int64.lua"; echo; cat "$lua_dir/strict_order.lua"; echo
      cat "$lua_dir/prelude.lua"; echo ;;
    strict_del) cat "$lua_dir/strict_int64.lua"; echo ;;
    strict_inc_if) cat "$lua_dir/strict_order.lua"; echo; cat "$lua_dir/strict_inverse.lua"; echo ;;
    strict_inc_all) cat "$lua_dir/strict_inverse.lua"; echo ;;
    strict_update_if) cat "$lua_dir/strict_int64.lua"; echo; cat "$lua_dir/strict_order.lua"; echo ;;
  esac
  cat "$lua_dir/$1.lua"
}

# run <script> <numkeys> <keys and args...>: the reply on one line.
run() {
  local script=$1
  shift
  cli EVAL "$(source_of "$script")" "$@" | paste -sd' ' -
}

# expect <what> <expected> <actual>
expect() {
  checks=$((checks + 1))
  if [[ "$3" != "$2" ]]; then
    failures=$((failures + 1))
    printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"
  fi
}

# check <expected reply> <script> <numkeys> <args...>
check() {
  local expected=$1
  shift
  expect "$*" "$expected" "$(run "$@")"
}

# The hash as sorted "field=value" words, "(empty)" when it does not exist.
dump() {
  if [[ $(redis-cli -u "$REDIS_URL" EXISTS "$1") == 0 ]]; then echo '(empty)'; return; fi
  redis-cli -u "$REDIS_URL" --raw HGETALL "$1" | paste -d= - - | LC_ALL=C sort -t= -k1,1 |
    paste -sd' ' -
}
expect_hash() { expect "contents of $1 ($2)" "$3" "$(dump "$1")"; }

# reset <key> [field value]...: the hash holds exactly these fields.
reset() {
  local key=$1
  shift
  redis-cli -u "$REDIS_URL" DEL "$key" >/dev/null
  if (($#)); then redis-cli -u "$REDIS_URL" HSET "$key" "$@" >/dev/null; fi
}

# --- canonical int64 validation -------------------------------------------
for bad in -0 +1 007 ' 1' '1 ' 1.0 1e3 '' - abc 9223372036854775808 -9223372036854775809 \
  99999999999999999999; do
  for mode in inc set; do
    reset "$H" a 5 b "$bad"
    check '(error) NOTINT 2' strict_update_if 1 "$H" $mode a 111 0 7 b 111 0 1
    expect_hash "$H" "$mode over '$bad'" "a=5 b=$bad"
  done
  check '(error) NOTINT 2' strict_inc_all 1 "$H" a 7 b 1
  check '(error) NOTINT 1' strict_inc_if 1 "$H" b 111 0 1
  check '(error) NOTINT 1' strict_del 1 "$H" b
  check '(error) NOTINT 1' strict_dec_min 1 "$H" b
  check '(error) NOTINT 2' lax_override 1 "$H" set a nil 0 0 9 $MIN $MAX b nil 0 0 9 $MIN $MAX
  check '(error) NOTINT 2' lax_override 1 "$H" del a $MIN $MAX b $MIN $MAX
  expect_hash "$H" "after NOTINT on '$bad'" "a=5 b=$bad"
done
reset "$H" a $MAX b $MIN c 0 d -1
check "$MAX 1 $MIN 1 0 1 -1 1" strict_update_if 1 "$H" inc a 111 0 0 b 111 0 0 c 111 0 0 d 111 0 0
check "$MAX $MIN 0 -1" strict_inc_all 1 "$H" a 0 b 0 c 0 d 0
check '(error) ERR distkit: malformed arguments' strict_update_if 1 "$H" inc a 111 0
check '(error) ERR distkit: malformed arguments' strict_inc_all 1 "$H" a 1 b
expect_hash "$H" "after malformed calls" "a=$MAX b=$MIN c=0 d=-1"

# inc_if_outcome <field> <orders> <operand> <amount>: "applied" or "missed"
# (from the reply's type: an integer or string when applied, a status reply
# when not), the value before, and the field after ("-" when absent).
inc_if_outcome() {
  local reply outcome before
  reply=$(redis-cli -u "$REDIS_URL" --no-raw EVAL "$(source_of strict_inc_if)" 1 "$H" "$@")
  case $reply in
    '(error)'*) echo "$reply"; return ;;
    '(integer) '*) outcome=applied before=${reply#(integer) } ;;
    '"'*) outcome=applied before=${reply//\"/} ;;
    *) outcome=missed before=$reply ;;
  esac
  local after
  after=$(redis-cli -u "$REDIS_URL" --no-raw HGET "$H" "$1")
  [[ $after == '(nil)' ]] && after=- || after=${after//\"/}
  echo "$outcome $before $after"
}

# --- order (strict_order.lua), shared by every comparing script -----------
order_of() {
  cli EVAL "$(cat "$lua_dir/strict_order.lua"; echo; echo 'return order(ARGV[1], ARGV[2])')" 0 "$1" "$2"
}
for case in "0 0 0" "1 0 1" "-1 0 -1" "-5 -50 1" "$MAX $MIN 1" "$MIN $MAX -1" \
  "9223372036854775806 $MAX -1" "-9223372036854775807 $MIN 1" \
  "123456789123456789 123456789123456788 1" "100000000000000000 999999999999999999 -1" \
  "18446744073709551616 18446744073709551615 1" "-18446744073709551616 -18446744073709551615 -1" \
  "99999999999999999999999999999999999998 99999999999999999999999999999999999999 -1" \
  "10000000000000000000000000000000000001 10000000000000000000000000000000000000 1"; do
  read -r a b want <<<"$case"
  expect "order $a $b" "$want" "$(order_of "$a" "$b")"
done

# --- comparators, compared as decimal strings -----------------------------
# Each row: current value ("-" = absent), operand, then whether eq ne lt gt
# le ge nil match. One call tests all seven on seven copies of the value.
ops=(eq ne lt gt le ge nil)
declare -A orders=([eq]=010 [ne]=101 [lt]=100 [gt]=001 [le]=110 [ge]=011 [nil]=111)
while read -r current operand bits; do
  [[ -z "$current" || "$current" == '#' ]] && continue
  args=() fields=()
  for op in "${ops[@]}"; do
    [[ "$current" != - ]] && fields+=("$op" "$current")
    args+=("$op" "${orders[$op]}" "$operand" 42)
  done
  reset "$H" "${fields[@]}"
  [[ "$current" == - ]] && before=0 || before=$current
  expected=()
  for bit in $bits; do expected+=("$before" "$bit"); done
  check "${expected[*]}" strict_update_if 1 "$H" set "${args[@]}"
  # strict_inc_if, one op at a time; the amount moves towards 0 so that it
  # never overflows.
  ((before < 0)) && amount=1 || amount=-1
  i=0
  for bit in $bits; do
    op=${ops[$i]} i=$((i + 1))
    reset "$H" "${fields[@]}"
    if ((bit)); then
      want="applied $before $((before + amount))"
    else
      want="missed $before $([[ $before == 0 ]] && echo - || echo "$before")"
    fi
    expect "inc_if $op $operand on $current" "$want" "$(inc_if_outcome "$op" "${orders[$op]}" "$operand" $amount)"
  done
done <<'ROWS'
# current            operand               eq ne lt gt le ge nil
9007199254740993     9007199254740992      0  1  0  1  0  1  1
9007199254740992     9007199254740993      0  1  1  0  1  0  1
9007199254740993     9007199254740993      1  0  0  0  1  1  1
-9007199254740993    -9007199254740992     0  1  1  0  1  0  1
-9007199254740992    -9007199254740993     0  1  0  1  0  1  1
-10                  -9                    0  1  1  0  1  0  1
10                   9                     0  1  0  1  0  1  1
9                    10                    0  1  1  0  1  0  1
-1                   1                     0  1  1  0  1  0  1
1                    -1                    0  1  0  1  0  1  1
0                    -1                    0  1  0  1  0  1  1
-                    0                     1  0  0  0  1  1  1
-                    -1                    0  1  0  1  0  1  1
9223372036854775807  -9223372036854775808  0  1  0  1  0  1  1
-9223372036854775808 9223372036854775807   0  1  1  0  1  0  1
-9223372036854775808 -9223372036854775808  1  0  0  0  1  1  1
9223372036854775807  9223372036854775806   0  1  0  1  0  1  1
1000000000000000000  999999999999999999    0  1  0  1  0  1  1
ROWS

# --- strict_update_if: arithmetic, overflow, duplicates -------------------
reset "$H" a 9007199254740992 b 9223372036854775806
check '9007199254740992 1 9223372036854775806 1' strict_update_if 1 "$H" inc a 111 0 1 b 111 0 1
expect_hash "$H" "inc beyond 2^53" "a=9007199254740993 b=$MAX"
# A repeated field compares against the exact value after the earlier entry,
# read back as a string beyond 2^53 and formatted from the number below it.
check '9007199254740993 1 9007199254740994 1 9007199254740995 0' strict_update_if 1 "$H" inc \
  a 111 0 1 a 010 9007199254740994 1 a 010 9007199254740994 1
reset "$H" a 5
check '5 1 6 1 7 0' strict_update_if 1 "$H" inc a 111 0 1 a 010 6 1 a 010 6 1
for mode in inc set; do
  reset "$H"
  check '0 0' strict_update_if 1 "$H" $mode a 010 1 5
  expect_hash "$H" "$mode not matched writes nothing" '(empty)'
done
reset "$H"
check '0 1 1 1 11 1 111 0' strict_update_if 1 "$H" inc a 111 0 1 a 010 1 10 a 010 11 100 a 010 1 5
check '111 1 5 1 6 0' strict_update_if 1 "$H" set a 111 0 5 a 010 5 6 a 100 6 7
expect_hash "$H" "after set duplicates" "a=6"
reset "$H" a 1 b $MAX m $MIN
check '(error) OVERFLOW 5' strict_update_if 1 "$H" inc a 111 0 5 a 111 0 5 c 111 0 3 b 111 0 -1 b 111 0 2
expect_hash "$H" "restore after OVERFLOW" "a=1 b=$MAX m=$MIN"
check '(error) OVERFLOW 3' strict_update_if 1 "$H" inc a 111 0 1 c 111 0 1 m 111 0 -1
expect_hash "$H" "restore after underflow" "a=1 b=$MAX m=$MIN"
redis-cli -u "$REDIS_URL" HSET "$H" x junk >/dev/null
check '(error) NOTINT 4' strict_update_if 1 "$H" set a 111 0 7 n 111 0 7 a 111 0 8 x 111 0 1
expect_hash "$H" "NOTINT is found before any write" "a=1 b=$MAX m=$MIN x=junk"
redis-cli -u "$REDIS_URL" SET "$prefix:string" v >/dev/null
actual=$(run strict_update_if 1 "$prefix:string" inc a 111 0 1)
expect "WRONGTYPE surfaces (update_if)" WRONGTYPE "$(grep -o WRONGTYPE <<<"$actual")"

# --- strict_inc_if: one HINCRBY on a match, undone on a miss --------------
reset "$H" f $MAX
expect "inc_if overflow on a match" '(error) OVERFLOW 1' "$(inc_if_outcome f 011 0 1)"
expect "inc_if overflow on a miss" "missed $MAX $MAX" "$(inc_if_outcome f 100 0 1)"
reset "$H" f $MIN
expect "inc_if underflow on a match" '(error) OVERFLOW 1' "$(inc_if_outcome f 010 $MIN -1)"
expect_hash "$H" "after inc_if overflow" "f=$MIN"
reset "$H" f 9007199254740992
expect "inc_if beyond 2^53, match" "applied 9007199254740992 9007199254740993" \
  "$(inc_if_outcome f 010 9007199254740992 1)"
expect "inc_if beyond 2^53, miss" "missed 9007199254740993 9007199254740993" \
  "$(inc_if_outcome f 010 9007199254740992 1)"
reset "$H" f 5
expect "inc_if of INT64_MIN, miss" "missed 5 5" "$(inc_if_outcome f 100 0 $MIN)"
expect "inc_if of INT64_MIN, match" "applied 5 -9223372036854775803" "$(inc_if_outcome f 011 0 $MIN)"
reset "$H" f -9007199254740990
expect "inc_if of an amount beyond 2^53, miss" "missed -9007199254740990 -9007199254740990" \
  "$(inc_if_outcome f 001 0 9007199254740993)"
expect "inc_if of an amount beyond 2^53, match" "applied -9007199254740990 3" \
  "$(inc_if_outcome f 011 -9007199254740990 9007199254740993)"
reset "$H" f 0
expect "inc_if miss on a field at 0 leaves it absent" "missed 0 -" "$(inc_if_outcome f 001 0 1)"
expect "inc_if of 0 on an absent field stores 0" "applied 0 0" "$(inc_if_outcome f 111 0 0)"
expect "inc_if of 0, miss" "missed 0 -" "$(inc_if_outcome f 001 0 0)"
redis-cli -u "$REDIS_URL" SET "$prefix:string" v >/dev/null
actual=$(run strict_inc_if 1 "$prefix:string" a 111 0 1)
expect "WRONGTYPE surfaces (inc_if)" WRONGTYPE "$(grep -o WRONGTYPE <<<"$actual")"

# --- strict_inc_all: values, read-back beyond 2^53, undo ------------------
reset "$H" a 9007199254740991 b -9007199254740991
check "9007199254740992 -9007199254740992 9007199254740993 5" \
  strict_inc_all 1 "$H" a 1 b -1 a 1 c 5
reset "$H" a 1 b $MAX m $MIN
check '(error) OVERFLOW 5' strict_inc_all 1 "$H" a 5 a 5 c 3 b -1 b 2
expect_hash "$H" "undo after OVERFLOW" "a=1 b=$MAX m=$MIN"
check '(error) OVERFLOW 4' strict_inc_all 1 "$H" a 0 a $MIN c 1 m -1
expect_hash "$H" "undo of INT64_MIN and 0 amounts" "a=1 b=$MAX m=$MIN"
check '(error) OVERFLOW 2' strict_inc_all 1 "$H" b $MIN m $MIN
expect_hash "$H" "undo of an INT64_MIN amount on MAX" "a=1 b=$MAX m=$MIN"
# A field found at 0 is left absent by the undo: both read as 0.
reset "$H" z 0 a $MAX
check '(error) OVERFLOW 3' strict_inc_all 1 "$H" z 7 z -7 a 1
expect_hash "$H" "undo deletes a field found at 0" "a=$MAX"
redis-cli -u "$REDIS_URL" HSET "$H" x junk >/dev/null
check '(error) NOTINT 3' strict_inc_all 1 "$H" a -1 n 1 x 1
expect_hash "$H" "undo after NOTINT" "a=$MAX x=junk"
actual=$(run strict_inc_all 1 "$prefix:string" a 1)
expect "WRONGTYPE surfaces (inc_all)" WRONGTYPE "$(grep -o WRONGTYPE <<<"$actual")"

# --- strict_dec_min: adds 2^63 ----------------------------------------------
reset "$H" a -1 b $MIN c 0 d 5 e -9007199254740993
check -1 strict_dec_min 1 "$H" a
check $MIN strict_dec_min 1 "$H" b
check -9007199254740993 strict_dec_min 1 "$H" e
for field in c d n; do check '(error) OVERFLOW 1' strict_dec_min 1 "$H" $field; done
expect_hash "$H" "after strict_dec_min" "a=$MAX b=0 c=0 d=5 e=9214364837600034815"

# --- strict_del -----------------------------------------------------------
reset "$H" a $MAX b x c $MIN
check $MAX strict_del 1 "$H" a
check '(nil)' strict_del 1 "$H" a
check $MIN strict_del 1 "$H" c
check '(error) NOTINT 1' strict_del 1 "$H" b
expect_hash "$H" "after strict_del" "b=x"

# --- lax_flush ------------------------------------------------------------
A="$prefix:aside"
reset "$H" a 10 x junk m $MAX big 9007199254740993 c 999999999999999 d 9999999999999999
redis-cli -u "$REDIS_URL" DEL "$R" "$A" >/dev/null
# Pairs 2 and 3 can never apply: set aside, the others still apply.
check "applied 2 3" \
  lax_flush 3 "$H" "$R" "$A" 5 oldest 60000 a 5 x 1 m 1 b -3 big 1 c 999999999999999 d 1
expect_hash "$H" "after flush" \
  "a=15 b=-3 big=9007199254740994 c=1999999999999998 d=10000000000000000 m=$MAX x=junk"
expect "set-aside list" "1 x 1 m" "$(redis-cli -u "$REDIS_URL" --raw LRANGE "$A" 0 -1 | paste -sd' ' -)"
expect "record after flush" 5 "$(redis-cli -u "$REDIS_URL" GET "$R")"
ttl=$(redis-cli -u "$REDIS_URL" PTTL "$R")
expect "record TTL in (0, 60000]" yes "$( ((ttl > 0 && ttl <= 60000)) && echo yes || echo "$ttl")"
redis-cli -u "$REDIS_URL" PERSIST "$R" >/dev/null
for seq in 5 4; do
  for mode in oldest next; do
    check "duplicate" lax_flush 3 "$H" "$R" "$A" $seq $mode 60000 a 5 b -3
  done
done
expect_hash "$H" "a duplicate writes nothing" \
  "a=15 b=-3 big=9007199254740994 c=1999999999999998 d=10000000000000000 m=$MAX x=junk"
expect "a duplicate leaves the TTL alone" -1 "$(redis-cli -u "$REDIS_URL" PTTL "$R")"
# "next" applies only right after its predecessor; "oldest" after any.
check "gap" lax_flush 3 "$H" "$R" "$A" 7 next 60000 a 1
check "applied" lax_flush 3 "$H" "$R" "$A" 6 next 60000 a 1
check "applied" lax_flush 3 "$H" "$R" "$A" 9 oldest 60000 a 1
expect_hash "$H" "after ordered chunks" \
  "a=17 b=-3 big=9007199254740994 c=1999999999999998 d=10000000000000000 m=$MAX x=junk"
check "applied" lax_flush 3 "$H" "$R" "$A" 10 next 60000 n $MIN
check "applied" lax_flush 3 "$H" "$R" "$A" 9007199254740991 oldest 60000
expect "seq up to 2^53-1" 9007199254740991 "$(redis-cli -u "$REDIS_URL" GET "$R")"
# Another type under the hash: an error, nothing written, record unchanged.
reset "$H"
redis-cli -u "$REDIS_URL" SET "$H" text >/dev/null
redis-cli -u "$REDIS_URL" DEL "$R" >/dev/null
reply=$(run lax_flush 3 "$H" "$R" "$A" 1 oldest 60000 a 1)
expect "WRONGTYPE under the hash" "(error) WRONGTYPE" "${reply:0:17}"
expect "no record after an error" 0 "$(redis-cli -u "$REDIS_URL" EXISTS "$R")"
redis-cli -u "$REDIS_URL" DEL "$H" >/dev/null
# Exact at the ends of int64, far beyond 2^53: each sum would round as a
# Lua number (2^63 - 2 + 1 has no double of its own).
reset "$H" hi 9223372036854775806 lo -9223372036854775807 p 9007199254740993 q -9007199254740993
redis-cli -u "$REDIS_URL" DEL "$R" "$A" >/dev/null
check "applied" lax_flush 3 "$H" "$R" "$A" 1 oldest 60000 hi 1 lo -1 p 2 q -2 r 4611686018427387905
expect_hash "$H" "exact beyond 2^53" \
  "hi=$MAX lo=$MIN p=9007199254740995 q=-9007199254740995 r=4611686018427387905"
# Leaving int64 either way, or a non-integer field (including integers
# HINCRBY does not read as one), is set aside; the pairs between still
# apply, the refused fields stay as they were.
reset "$H" hi $MAX lo $MIN f 1.5 g ' 7' k 5
check "applied 1 2 3 4" lax_flush 3 "$H" "$R" "$A" 2 oldest 60000 hi 1 lo -1 f 1 g 2 k $MIN
expect_hash "$H" "after refusals" "f=1.5 g= 7 hi=$MAX k=-9223372036854775803 lo=$MIN"
expect "set-aside list after refusals" "1 hi|-1 lo|1 f|2 g" \
  "$(redis-cli -u "$REDIS_URL" --raw LRANGE "$A" 0 -1 | paste -sd'|' -)"
expect "record after refusals" 2 "$(redis-cli -u "$REDIS_URL" GET "$R")"
# Another type under the record or the set-aside list: an error before any
# write (the list is written last, so its type is checked first).
reset "$H" a 1
redis-cli -u "$REDIS_URL" DEL "$A" >/dev/null
redis-cli -u "$REDIS_URL" SET "$A" text >/dev/null
reply=$(run lax_flush 3 "$H" "$R" "$A" 3 oldest 60000 x 1 a 1)
expect "WRONGTYPE under the set-aside list" "(error) WRONGTYPE" "${reply:0:17}"
redis-cli -u "$REDIS_URL" DEL "$A" "$R" >/dev/null
redis-cli -u "$REDIS_URL" HSET "$R" n 1 >/dev/null
reply=$(run lax_flush 3 "$H" "$R" "$A" 3 oldest 60000 a 1)
expect "WRONGTYPE under the record" "(error) WRONGTYPE" "${reply:0:17}"
expect_hash "$H" "a call that failed writes nothing" "a=1"
expect "a failed call sets nothing aside" 0 "$(redis-cli -u "$REDIS_URL" EXISTS "$A")"
redis-cli -u "$REDIS_URL" DEL "$H" "$R" >/dev/null

# --- lax_override ---------------------------------------------------------
big=123456789012345678901234567890
B="$MIN $MAX"  # bounds that take no pending delta into account
reset "$H" a 10
check '10 1 0' lax_override 1 "$H" set a eq 10 99 7 $B
expect_hash "$H" "override with the adjusted operand" "a=7"
reset "$H" a 3
check '3 1 0' lax_override 1 "$H" del a $B
check '0 1 0' lax_override 1 "$H" del a $B
# The plain operand once an earlier entry wrote the field, and only then.
reset "$H" a 10
check '10 1 0 50 1 1 60 0 1' \
  lax_override 1 "$H" set a nil 0 0 50 $B a eq 1 50 60 $B a eq 60 -$big 70 $B
reset "$H" a 10
check '10 0 0 10 0 0' lax_override 1 "$H" set a eq 1 1 5 $B a eq 999 10 6 $B
# Operands beyond int64, compared as decimal strings.
reset "$H" a $MAX b $MIN c $MAX d $MIN
check "$MAX 1 0 $MIN 1 0 $MAX 0 0 $MIN 0 0" lax_override 1 "$H" set \
  a lt 9223372036854775808 0 1 $B b gt -18446744073709551616 0 2 $B \
  c ge $big 0 3 $B d le -$big 0 4 $B
expect_hash "$H" "override beyond int64" "a=1 b=2 c=$MAX d=$MIN"
reset "$H" a $MAX
check "$MAX 1 0" lax_override 1 "$H" set a lt 99999999999999999999999999999999999999 0 5 $B
check '(error) ERR distkit: malformed entry 1' lax_override 1 "$H" set a lt 01 0 5 $B
check '(error) ERR distkit: malformed entry 1' lax_override 1 "$H" set a lt 1 0 5 01 1
check '(error) ERR distkit: malformed arguments' lax_override 1 "$H" set a lt 1 0 $B
# NOTINT undoes the earlier entries; del marks fields written.
reset "$H" a 1 b x
check '(error) NOTINT 3' lax_override 1 "$H" set a nil 0 0 5 $B c nil 0 0 6 $B b nil 0 0 7 $B
check '(error) NOTINT 3' lax_override 1 "$H" del a $B c $B b $B
expect_hash "$H" "undo after override NOTINT" "a=1 b=x"
reset "$H" a 1 b 2
check '1 1 0 0 1 1 0 1 0' lax_override 1 "$H" del a $B a $B c $B
expect_hash "$H" "after override del" "b=2"
# OVERFLOW: the value plus the caller's pending delta (here 10) leaves
# int64; the earlier writes are undone. The bounds do not apply once an
# earlier entry of the call wrote the field.
reset "$H" a 1 b $MAX
check '(error) OVERFLOW 2' lax_override 1 "$H" set a nil 0 0 5 $B b nil 0 0 6 $MIN 9223372036854775797
check '(error) OVERFLOW 2' lax_override 1 "$H" del a $B b $MIN 9223372036854775797
expect_hash "$H" "undo after override OVERFLOW" "a=1 b=$MAX"
check "$MAX 1 0 0 1 1" lax_override 1 "$H" del b $B b 0 0

# --- 100,000 entries in one call ------------------------------------------
# Too many arguments for a command line, so the command goes through stdin.
sha=$(redis-cli -u "$REDIS_URL" SCRIPT LOAD "$(source_of strict_inc_all)")
batch() { # batch <last amount>: 99,999 increments of 1 over 1,000 fields, then one more
  awk -v sha="$sha" -v h="$H" -v last="$1" 'BEGIN {
    printf "EVALSHA %s 1 %s", sha, h
    for (i = 0; i < 99999; i++) printf " f%d 1", i % 1000
    printf " f999 %s\n", last }' | cli
}
reset "$H"
out=$(batch 1)
expect "100,000 entries: reply size" 100000 "$(wc -l <<<"$out")"
expect "100,000 entries: last entry" "100" "$(tail -1 <<<"$out")"
expect "100,000 entries: fields" 1000 "$(redis-cli -u "$REDIS_URL" HLEN "$H")"
expect "100,000 entries: overflow" '(error) OVERFLOW 100000' "$(batch $MAX)"
expect "100,000 entries: undone" '1000 100 100' \
  "$(redis-cli -u "$REDIS_URL" HLEN "$H") $(redis-cli -u "$REDIS_URL" HGET "$H" f0) $(redis-cli -u "$REDIS_URL" HGET "$H" f999)"

if ((failures)); then
  echo "$failures of $checks Lua script checks failed"
  exit 1
fi
echo "all $checks Lua script checks passed"
