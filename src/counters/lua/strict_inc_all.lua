-- StrictCounter's inc_all: one HINCRBY per entry, in order, and nothing
-- else while every entry succeeds.
-- KEYS[1]: the hash; ARGV: field, amount pairs (amount a canonical int64).
-- Returns the value after each entry: an integer when its magnitude is below
-- 2^53 (a Lua number holds it exactly), else the field read back as a string.
-- "OVERFLOW <i>" / "NOTINT <i>" when entry i fails: the earlier entries are
-- undone first by applying their inverses, and a field they found at 0 or
-- absent is deleted (both read as 0; which of the two it was is not
-- recorded, as that would cost a read per entry on the success path).
local hash = KEYS[1]
if #ARGV % 2 ~= 0 then return redis.error_reply('ERR distkit: malformed arguments') end
local EXACT = 9007199254740992 -- 2^53
local result = {}

-- Undoes entries 1 .. last, newest first.
local function undo(last)
  local found_zero = {}
  for entry = last, 1, -1 do
    local field, amount = ARGV[2 * entry - 1], ARGV[2 * entry]
    add_inverse(hash, field, amount)
    -- The value before this entry is its result minus its amount.
    local value = result[entry]
    found_zero[field] = value == amount or (type(value) == 'number' and value == tonumber(amount))
  end
  for field, zero in pairs(found_zero) do
    if zero then redis.call('HDEL', hash, field) end
  end
end

for i = 1, #ARGV, 2 do
  local reply = redis.pcall('HINCRBY', hash, ARGV[i], ARGV[i + 1])
  local entry = (i + 1) / 2
  if type(reply) == 'table' then
    undo(entry - 1)
    if string.find(reply.err, 'overflow', 1, true) then
      return redis.error_reply('OVERFLOW ' .. entry)
    elseif string.find(reply.err, 'not an integer', 1, true) then
      return redis.error_reply('NOTINT ' .. entry)
    end
    return reply
  end
  if reply > -EXACT and reply < EXACT then
    result[entry] = reply
  else
    result[entry] = redis.call('HGET', hash, ARGV[i])
  end
end
return result
