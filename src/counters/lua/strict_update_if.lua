-- StrictCounter's inc_if, set_if, inc_all_if and set_all_if.
-- KEYS[1]: the hash. ARGV[1]: "inc" or "set"; then 4 per entry: field,
-- matching orders, operand, amount (operand and amount canonical int64).
-- "Matching orders" is 3 bytes, '1' where the comparator accepts the value
-- being below, equal to, above the operand: "100" is lt, "101" ne, "111"
-- always (nil).
-- Returns 2 per entry: the value the comparator saw (a string, "0" for an
-- absent field) and 1/0 applied; the caller derives the value after it.
-- Entries apply in order, so a repeated field sees the earlier writes.
-- "NOTINT <i>": entry i names a field holding a non-int64; checked before
-- any write. "OVERFLOW <i>": entry i would leave int64; the fields written
-- so far get back the values read at the start.
local hash, inc = KEYS[1], ARGV[1] == 'inc'
if (#ARGV - 1) % 4 ~= 0 then return redis.error_reply('ERR distkit: malformed arguments') end
local EXACT = 9007199254740992 -- 2^53

-- Each field once, with the entry that names it first.
local fields, first_entry = {}, {}
for i = 2, #ARGV, 4 do
  local field = ARGV[i]
  if not first_entry[field] then
    first_entry[field] = (i + 2) / 4
    fields[#fields + 1] = field
  end
end
-- original: field -> HMGET reply (false when absent). current: field -> its
-- value now, a string, or HINCRBY's numeric reply until a later entry needs
-- the string. One HMGET per thousand fields: unpack has a small stack.
local original, current = {}, {}
for first = 1, #fields, 1000 do
  local last = math.min(first + 999, #fields)
  local values = redis.call('HMGET', hash, unpack(fields, first, last))
  for k = first, last do
    local field, value = fields[k], values[k - first + 1]
    if value and not is_int64(value) then
      return redis.error_reply('NOTINT ' .. first_entry[field])
    end
    original[field], current[field] = value, value or '0'
  end
end

local result = {}
for i = 2, #ARGV, 4 do
  local field, accepts, amount = ARGV[i], ARGV[i + 1], ARGV[i + 3]
  local before = current[field]
  if type(before) == 'number' then
    if before > -EXACT and before < EXACT then
      before = string.format('%d', before)
    else
      before = redis.call('HGET', hash, field)
    end
  end
  local applied = 0
  if accepts == '111' or string.byte(accepts, order(before, ARGV[i + 2]) + 2) == 49 then
    applied = 1
    if inc then
      local reply = redis.pcall('HINCRBY', hash, field, amount)
      if type(reply) == 'table' then
        for k = #result, 2, -2 do
          local written = ARGV[2 * k - 2]
          if result[k] == 1 and original[written] ~= nil then
            if original[written] then
              redis.call('HSET', hash, written, original[written])
            else
              redis.call('HDEL', hash, written)
            end
            original[written] = nil -- restored
          end
        end
        if string.find(reply.err, 'overflow', 1, true) then
          return redis.error_reply('OVERFLOW ' .. (i + 2) / 4)
        end
        return reply
      end
      current[field] = reply
    else
      redis.call('HSET', hash, field, amount)
      current[field] = amount
    end
  else
    current[field] = before
  end
  result[#result + 1] = before
  result[#result + 1] = applied
end
return result
