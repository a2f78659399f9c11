-- LaxInstanceAwareCounter's flush of one chunk of pending deltas into this
-- instance's slices and the cumulatives, applied exactly once (the
-- LaxFlushLayout contract in src/counters/lax_flusher.hpp).
-- KEYS[1..6]: see instance_common; KEYS[7]: this instance's flush record (a
-- string: the number of its last applied chunk; expires on its own);
-- KEYS[8]: the set-aside list.
-- ARGV[1]: this instance's id (heartbeat); ARGV[2]: the chunk number (a
-- positive integer below 2^53, so tonumber is exact for it); ARGV[3]:
-- "oldest" when every earlier chunk is known to be applied, else "next";
-- ARGV[4]: the record's TTL in ms; then pairs: field, delta (canonical
-- non-zero int64; fields distinct).
-- Returns {"duplicate"} (the record is at or above the number) or {"gap"}
-- ("next" and the record is not the number minus one), writing nothing;
-- else records the heartbeat, adds each delta to the slice and the
-- cumulative and returns {"applied", i...}: the 1-based pairs Redis can
-- never take (a field holds a non-integer, or a sum would leave int64),
-- which change neither hash and are appended to the set-aside list as
-- "<delta> <field>" instead.
-- Keys of the wrong type fail the call before any write.
-- An instance whose removal is under way (see finish_own_removal in
-- instance_common) removes up to CLEANUP_BUDGET of its own slices and,
-- while some remain, fails with "REMOVING ..." without applying the chunk
-- (the flusher retries it).
--
-- Each slice is reconciled with its key's epoch first (see Epochs in
-- instance_common): a slice staled by a global set/del (of a Rust process;
-- distkit C++'s reset every slice at once) is dropped and the delta starts
-- it afresh. Dead instances are removed by the counter's heartbeat and
-- immediate calls, not here.
--
-- Cost: one HMGET per hash (four) and one HSET per hash for the whole
-- chunk, plus one SADD for keys new to C:keys. Sums of values below 10^15 in magnitude
-- are exact as Lua numbers (below 2^53) and formatted back with %d; any
-- other pair goes through HINCRBY, which does exact int64 arithmetic and
-- refuses overflow and non-integers.
local RECORD, ASIDE = KEYS[7], KEYS[8]
local me, seq = ARGV[1], tonumber(ARGV[2])
local last = tonumber(redis.call('GET', RECORD) or '0') or 0
if last >= seq then return {'duplicate'} end
if ARGV[3] ~= 'oldest' and last ~= seq - 1 then return {'gap'} end
-- The keys written only after the slices and totals (and never read
-- first) get their type checked here, so that a call failing on one
-- writes nothing and its retry does not apply the chunk twice.
for _, expected in ipairs({{INSTANCES, 'zset'}, {KEY_SET, 'set'}, {ASIDE, 'list'}}) do
  local found = redis.call('TYPE', expected[1]).ok
  if found ~= 'none' and found ~= expected[2] then
    return redis.error_reply('WRONGTYPE ' .. expected[1] .. ' holds a ' .. found .. ', not a ' ..
                             expected[2])
  end
end

local function small(s)
  return #s < 16 and (s == '0' or string.find(s, '^%-?[1-9]%d*$') ~= nil)
end

local function failed(reply)
  return type(reply) == 'table' and reply.err ~= nil
end

if not finish_own_removal() then
  return redis.error_reply('REMOVING this instance was declared dead while it was paused; ' ..
                           'its last slices are being removed before it registers again, ' ..
                           'then the flush applies')
end

local fields = {}
for i = 5, #ARGV, 2 do fields[#fields + 1] = ARGV[i] end
local slices = redis.call('HMGET', MINE, unpack(fields))
local totals = redis.call('HMGET', CUMULATIVE, unpack(fields))
local currents = redis.call('HMGET', EPOCH, unpack(fields))
local seens = redis.call('HMGET', MY_EPOCHS, unpack(fields))
redis.call('ZADD', INSTANCES, now_ms(), me)
for k = 1, #fields do
  if is_stale(seens[k], currents[k]) then
    if slices[k] then redis.call('HDEL', MINE, fields[k]) end
    slices[k] = false
    if currents[k] and currents[k] ~= '0' then
      redis.call('HSET', MY_EPOCHS, fields[k], currents[k])
    else
      redis.call('HDEL', MY_EPOCHS, fields[k])
    end
  end
end

local result = {'applied'}
local slice_sets, total_sets, new_keys, set_aside = {}, {}, {}, {}
for k = 1, #fields do
  local field, delta = fields[k], ARGV[4 + 2 * k]
  local slice, total = slices[k] or '0', totals[k] or '0'
  if small(slice) and small(total) and small(delta) then
    slice_sets[#slice_sets + 1] = field
    slice_sets[#slice_sets + 1] = string.format('%d', tonumber(slice) + tonumber(delta))
    total_sets[#total_sets + 1] = field
    total_sets[#total_sets + 1] = string.format('%d', tonumber(total) + tonumber(delta))
    if total == '0' then new_keys[#new_keys + 1] = field end
  else
    local taken = not failed(redis.pcall('HINCRBY', MINE, field, delta))
    if taken and failed(redis.pcall('HINCRBY', CUMULATIVE, field, delta)) then
      -- The slice took it, the cumulative cannot: put the slice back.
      for _, piece in ipairs(negated(delta)) do redis.call('HINCRBY', MINE, field, piece) end
      if not slices[k] then redis.call('HDEL', MINE, field) end
      taken = false
    end
    if taken then
      if total == '0' then new_keys[#new_keys + 1] = field end
    else
      result[#result + 1] = k
      set_aside[#set_aside + 1] = delta .. ' ' .. field
    end
  end
end
if #slice_sets > 0 then
  redis.call('HSET', MINE, unpack(slice_sets))
  redis.call('HSET', CUMULATIVE, unpack(total_sets))
end
if #new_keys > 0 then redis.call('SADD', KEY_SET, unpack(new_keys)) end
if #set_aside > 0 then redis.call('RPUSH', ASIDE, unpack(set_aside)) end
redis.call('SET', RECORD, ARGV[2], 'PX', ARGV[4])
return result
