-- Shared helpers of distkit's counter scripts; every script is sent as this
-- prelude followed by its body.
--
-- Counter values are decimal strings here and never Lua numbers: Redis
-- turns Lua numbers into doubles, which are inexact beyond 2^53. Values are
-- compared as strings and HINCRBY does the arithmetic.

local INT64_MAX = '9223372036854775807'
local INT64_MIN_DIGITS = '9223372036854775808'

-- The digits of a canonical integer ("0", "-12"; no '+', no leading zeros)
-- and whether it is negative, or nil when `s` is not one.
local function split_integer(s)
  if type(s) ~= 'string' then return nil end
  local negative = string.sub(s, 1, 1) == '-'
  local digits = negative and string.sub(s, 2) or s
  if digits == '0' then
    if negative then return nil end
    return digits, false
  end
  if not string.find(digits, '^[1-9]%d*$') then return nil end
  return digits, negative
end

-- Compares digit strings without leading zeros: -1, 0 or 1.
local function compare_digits(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

-- True when `s` is a canonical decimal int64: exactly what HINCRBY accepts.
local function is_int64(s)
  local digits, negative = split_integer(s)
  if not digits then return false end
  return compare_digits(digits, negative and INT64_MIN_DIGITS or INT64_MAX) <= 0
end

-- Compares two canonical integers of any length: -1, 0 or 1.
local function compare_integers(a, b)
  local a_digits, a_negative = split_integer(a)
  local b_digits, b_negative = split_integer(b)
  if a_negative ~= b_negative then return a_negative and -1 or 1 end
  local order = compare_digits(a_digits, b_digits)
  if a_negative then return 0 - order end
  return order
end

local function matches(op, current, operand)
  if op == 'nil' then return true end
  local order = compare_integers(current, operand)
  if op == 'eq' then return order == 0 end
  if op == 'ne' then return order ~= 0 end
  if op == 'lt' then return order < 0 end
  if op == 'gt' then return order > 0 end
  if op == 'le' then return order <= 0 end
  if op == 'ge' then return order >= 0 end
  error('unknown comparator ' .. tostring(op))
end

-- Remembers the value a field had before this invocation first wrote it,
-- so that a failing call can put everything back (Redis does not roll back
-- a script that returns an error).
local function new_journal(hash)
  local originals = {}
  local order = {}
  local journal = {}
  function journal.touch(field, current)
    if originals[field] == nil then
      originals[field] = current or false
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

-- The value of `field` as a canonical int64 string ("0" when absent) and
-- the raw HGET result, or nil when the field holds something else.
local function read_int64(hash, field)
  local raw = redis.call('HGET', hash, field)
  if not raw then return '0', raw end
  if not is_int64(raw) then return nil, raw end
  return raw, raw
end

local function fail(journal, code, index)
  journal.undo()
  return redis.error_reply(code .. ' ' .. index)
end
