-- Shared helpers of distkit's lax and instance-aware counter scripts; every
-- such script is sent as strict_int64.lua (is_int64), strict_order.lua
-- (order), this prelude and its body, joined by newlines.
--
-- Counter values stay decimal strings and never become Lua numbers: Redis
-- converts Lua numbers to doubles, which are inexact beyond 2^53. HINCRBY
-- and HSET do the arithmetic; comparisons look at the digits.

-- Whether `s` is a canonical integer of any length: "0" or -?[1-9][0-9]*
-- (not "-0", "+1", "007", " 1", "1.0", "").
local function is_integer(s)
  return type(s) == 'string' and (s == '0' or string.match(s, '^%-?[1-9][0-9]*$') ~= nil)
end

-- Comparator ops by name; "lt" means current < operand.
local ORDER_TESTS = {
  eq = function(sign) return sign == 0 end,
  ne = function(sign) return sign ~= 0 end,
  lt = function(sign) return sign < 0 end,
  gt = function(sign) return sign > 0 end,
  le = function(sign) return sign <= 0 end,
  ge = function(sign) return sign >= 0 end,
}

local function is_op(op)
  return op == 'nil' or ORDER_TESTS[op] ~= nil
end

-- Whether `current` satisfies `op` against `operand`; `op` must pass is_op.
local function matches(op, current, operand)
  if op == 'nil' then return true end
  return ORDER_TESTS[op](order(current, operand))
end

-- Redis keeps the writes of a script that returns an error, so each script
-- remembers the value (or absence) a field had before its first write here
-- and puts it back before failing.
local function new_journal(hash)
  local originals, touched = {}, {}
  local journal = {}
  function journal.touch(field, raw)
    if originals[field] == nil then
      originals[field] = raw or false
      touched[#touched + 1] = field
    end
  end
  function journal.undo()
    for i = #touched, 1, -1 do
      local field = touched[i]
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
