-- StrictCounter's inc_if. The comparator usually matches, so the increment
-- comes first and is undone (by its inverse) only when the value before it
-- fails the comparator: one HINCRBY is the whole cost of a match.
-- KEYS[1]: the hash. ARGV: field, matching orders (as in
-- strict_update_if.lua), operand, amount (canonical int64).
-- Returns the value before: applied, an integer where a Lua number holds it
-- exactly, else a string; not applied, a status reply holding it. One value,
-- not a table: Redis converts a table reply at a noticeable cost.
-- "OVERFLOW 1" when the comparator matches but the sum leaves int64,
-- "NOTINT 1" for a field holding a non-int64; nothing changed then. A miss
-- on a key at 0 leaves it absent (both read as 0).
local hash, field, accepts, operand, amount = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local EXACT = 9007199254740992 -- 2^53

local reply = redis.pcall('HINCRBY', hash, field, amount)
if type(reply) == 'table' then
  if string.find(reply.err, 'overflow', 1, true) then
    local before = redis.call('HGET', hash, field) -- present: nothing absent overflows
    if string.byte(accepts, order(before, operand) + 2) == 49 then
      return redis.error_reply('OVERFLOW 1')
    end
    return redis.status_reply(before)
  end
  if string.find(reply.err, 'not an integer', 1, true) then
    return redis.error_reply('NOTINT 1')
  end
  return reply
end

local step = tonumber(amount)
local before = reply - step
local exact = reply > -EXACT and reply < EXACT and step > -EXACT and step < EXACT
    and before > -EXACT and before < EXACT
if exact then
  -- A double compares exactly with `before` even where the operand's double
  -- is inexact: the operand's magnitude is then >= 2^53, beyond `before`.
  local bound = tonumber(operand)
  if string.byte(accepts, before < bound and 1 or (before == bound and 2 or 3)) == 49 then
    return before
  end
end

-- A miss, or a value beyond 2^53: put the field back as it was.
if exact and before == 0 then
  redis.call('HDEL', hash, field)
  return redis.status_reply('0')
end
add_inverse(hash, field, amount)
if exact then return redis.status_reply(string.format('%d', before)) end

-- Beyond 2^53: decide on the exact digits.
local text = redis.call('HGET', hash, field) or '0'
if string.byte(accepts, order(text, operand) + 2) == 49 then
  redis.call('HINCRBY', hash, field, amount)
  return text
end
if text == '0' then redis.call('HDEL', hash, field) end
return redis.status_reply(text)
