-- LaxCounter's flush of one chunk of pending deltas, applied exactly once.
-- KEYS[1]: the hash; KEYS[2]: this instance's flush record (a string: the
-- number of its last applied chunk; expires on its own); KEYS[3]: the
-- set-aside list.
-- ARGV[1]: the chunk number (a positive integer below 2^53, so tonumber is
-- exact for it); ARGV[2]: "oldest" when every earlier chunk of the instance
-- is known to be applied, else "next"; ARGV[3]: the record's TTL in ms;
-- then pairs: field, delta (canonical non-zero int64; fields distinct; at
-- most 2000 pairs).
-- Returns {"duplicate"} (the record is at or above the number: applied
-- before) or {"gap"} ("next" and the record is not the number minus one: an
-- earlier chunk is missing), writing nothing; else applies the chunk and
-- returns {"applied", i...}: the 1-based pairs Redis can never take (the
-- field holds a non-integer, or the sum would leave int64), which are
-- appended to the set-aside list as "<delta> <field>" instead.
-- A hash or record of another type fails the call before any write.
--
-- Cost: one HMGET and one HSET for the whole chunk. A sum of two values
-- below 10^15 in magnitude is exact as a Lua number (below 2^53) and is
-- formatted back with %d; any other pair goes through HINCRBY, which does
-- exact int64 arithmetic and refuses overflow and non-integers.
local hash, record, aside = KEYS[1], KEYS[2], KEYS[3]
local seq = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', record) or '0') or 0
if last >= seq then return {'duplicate'} end
if ARGV[2] ~= 'oldest' and last ~= seq - 1 then return {'gap'} end

local function small(s)
  return #s < 16 and (s == '0' or string.find(s, '^%-?[1-9]%d*$') ~= nil)
end

local fields = {}
for i = 4, #ARGV, 2 do fields[#fields + 1] = ARGV[i] end
local result = {'applied'}
if #fields > 0 then
  local current = redis.call('HMGET', hash, unpack(fields))
  local sets, set_aside = {}, {}
  for k = 1, #fields do
    local field, delta, value = fields[k], ARGV[3 + 2 * k], current[k]
    if not value then
      sets[#sets + 1] = field
      sets[#sets + 1] = delta
    elseif small(value) and small(delta) then
      sets[#sets + 1] = field
      sets[#sets + 1] = string.format('%d', tonumber(value) + tonumber(delta))
    else
      local reply = redis.pcall('HINCRBY', hash, field, delta)
      if type(reply) == 'table' and reply.err then
        result[#result + 1] = k
        set_aside[#set_aside + 1] = delta .. ' ' .. field
      end
    end
  end
  if #sets > 0 then redis.call('HSET', hash, unpack(sets)) end
  if #set_aside > 0 then redis.call('RPUSH', aside, unpack(set_aside)) end
end
redis.call('SET', record, ARGV[1], 'PX', ARGV[3])
return result
