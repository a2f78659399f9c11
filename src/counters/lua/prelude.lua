-- Shared helpers of distkit's counter scripts; every script is sent as this
-- prelude, a newline, then its body.
--
-- Counter values stay decimal strings and never become Lua numbers: Redis
-- converts Lua numbers to doubles, which are inexact beyond 2^53. HINCRBY
-- and HSET do the arithmetic; comparisons look at the digits.

local INT64_MAX_DIGITS = '9223372036854775807'
local INT64_MIN_DIGITS = '9223372036854775808'

-- -1, 0 or 1 for two digit strings without leading zeros. Equal lengths are
-- compared byte by byte because Lua's string `<` uses the locale (strcoll).
local function compare_digits(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end

-- The digits and sign of a canonical integer ("0" or -?[1-9][0-9]*, any
-- length), or nil when `s` is not one ("-0", "+1", "007", " 1", "1.0", "").
local function split_integer(s)
  if type(s) ~= 'string' then return nil end
  if s == '0' then return '0', false end
  local sign, digits = string.match(s, '^(%-?)([1-9][0-9]*)$')
  if not digits then return nil end
  return digits, sign == '-'
end

local function is_integer(s)
  return split_integer(s) ~= nil
end

-- A canonical int64: exactly the strings HINCRBY accepts.
local function is_int64(s)
  local digits, negative = split_integer(s)
  if not digits then return false end
  if #digits < 19 then return true end
  return compare_digits(digits, negative and INT64_MIN_DIGITS or INT64_MAX_DIGITS) <= 0
end

-- -1, 0 or 1 for two canonical integers of any length.
local function compare_integers(a, b)
  local a_digits, a_negative = split_integer(a)
  local b_digits, b_negative = split_integer(b)
  if a_negative ~= b_negative then return a_negative and -1 or 1 end
  local order = compare_digits(a_digits, b_digits)
  if a_negative then return -order end
  return order
end

-- Comparator ops by name; "lt" means current < operand.
local ORDER_TESTS = {
  eq = function(order) return order == 0 end,
  ne = function(order) return order ~= 0 end,
  lt = function(order) return order < 0 end,
  gt = function(order) return order > 0 end,
  le = function(order) return order <= 0 end,
  ge = function(order) return order >= 0 end,
}

local function is_op(op)
  return op == 'nil' or ORDER_TESTS[op] ~= nil
end

-- Whether `current` satisfies `op` against `operand`; `op` must pass is_op.
local function matches(op, current, operand)
  if op == 'nil' then return true end
  return ORDER_TESTS[op](compare_integers(current, operand))
end

-- Redis keeps the writes of a script that returns an error, so each script
-- remembers the value (or absence) a field had before its first write here
-- and puts it back before failing.
local function new_journal(hash)
  local originals, order = {}, {}
  local journal = {}
  function journal.touch(field, raw)
    if originals[field] == nil then
      originals[field] = raw or false
      order[#order + 1] = field
    end
  end
  function journal.undo()
    for i = #order, 1, -1 do
      local field = order[i]
      local original = originals[field]
      if original then
        redis.call('HSET', hash, field, original)
      else
        redis.call('HDEL', hash, field)
      end
    end
  end
  return journal
end

-- The raw HGET reply of `field` and its value as a counter: "0" when absent,
-- nil when the field holds anything but a canonical int64.
local function read_counter(hash, field)
  local raw = redis.call('HGET', hash, field)
  if not raw then return false, '0' end
  if not is_int64(raw) then return raw, nil end
  return raw, raw
end

-- The raw HMGET replies of `fields` (false when absent), by field; one
-- HMGET per thousand fields, as unpack has a small stack.
local function read_fields(hash, fields)
  local values = {}
  for first = 1, #fields, 1000 do
    local last = math.min(first + 999, #fields)
    local replies = redis.call('HMGET', hash, unpack(fields, first, last))
    for k = first, last do values[fields[k]] = replies[k - first + 1] end
  end
  return values
end

-- Undoes this call's writes and returns `message` as an error reply.
local function fail(journal, message)
  journal.undo()
  return redis.error_reply(message)
end

-- Entries start at ARGV[first] and take `width` arguments each; nil when
-- the count does not divide, so a malformed call fails before any write.
local function entry_count(first, width)
  local n = #ARGV - first + 1
  if n < 0 or n % width ~= 0 then return nil end
  return n / width
end

-- The error message for malformed arguments: a caller bug, not bad data.
local function malformed(what)
  return 'ERR distkit: malformed ' .. what
end
