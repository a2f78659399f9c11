-- Shared by the instance-aware counter scripts; sent after the prelude and
-- before each script's body.
--
-- KEYS[1..6] of every instance script, C = <prefix>:instance_aware_counter:
--   C:epoch (hash key -> epoch), C:instances (zset id -> last heartbeat ms),
--   C:cumulative (hash key -> total), C:keys (set of keys with a total),
--   C:count:<this instance> (hash key -> this instance's slice),
--   C:slice_epoch:<this instance> (hash key -> the epoch of the key under
--     which this instance's slice was written; absent means '0'; the field
--     '' marks an instance that keeps this record, see below).
-- Further KEYS are other instances' count (and slice_epoch) hashes, named in
-- ARGV as ids, so that every key a script touches is declared.
--
-- Epochs. A global set/del bumps the key's epoch (C:epoch, as the Rust
-- distkit does). A slice written under an older epoch of its key is stale:
-- the global write already left it out of the cumulative, so it must not
-- count again. The Rust distkit remembers each slice's epoch in the process;
-- distkit C++ keeps it in Redis (C:slice_epoch:<id>), where the script that
-- touches the slice reads it atomically: no race between calls in flight,
-- retries or a reply that never came. Every script that reads or writes
-- this instance's slice of a key first reconciles it: a stale slice is
-- deleted (the cumulative unchanged) and the key's current epoch recorded.
--
-- Values stay decimal strings (see the prelude); HINCRBY does the
-- arithmetic. A write that fails part way is undone by its inverse from an
-- undo log, so a failed call changes nothing.
local EPOCH, INSTANCES, CUMULATIVE, KEY_SET, MINE = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local MY_EPOCHS = KEYS[6]
-- The field of C:slice_epoch:<id> that marks a distkit C++ instance.
local TRACKED = ''
local INT64_MAX = '9223372036854775807'
local INT64_MIN = '-9223372036854775808'
-- Integers of smaller magnitude survive Redis's conversion of an integer
-- reply to a Lua number exactly.
local EXACT_LIMIT = 9007199254740992

-- Redis's clock in ms since the Unix epoch (the Rust distkit's heartbeat unit).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Canonical int64 pieces whose sum is -s (s a canonical int64): -INT64_MIN
-- does not fit, so it is INT64_MAX then 1.
local function negated(s)
  if s == '0' then return {} end
  if s == INT64_MIN then return {INT64_MAX, '1'} end
  if string.sub(s, 1, 1) == '-' then return {string.sub(s, 2)} end
  return {'-' .. s}
end

local function is_negative(s)
  return string.sub(s, 1, 1) == '-'
end

-- The undo log: what to do to put every write of this call back.
local undo_log = {}

local function undo_all()
  for i = #undo_log, 1, -1 do
    local step = undo_log[i]
    if step.kind == 'field' then
      if step.raw then
        redis.call('HSET', step.hash, step.field, step.raw)
      else
        redis.call('HDEL', step.hash, step.field)
      end
    elseif step.kind == 'increment' then
      for _, piece in ipairs(negated(step.amount)) do
        redis.call('HINCRBY', step.hash, step.field, piece)
      end
      -- 0 is absent: an increment may have created the field.
      if redis.call('HGET', step.hash, step.field) == '0' then
        redis.call('HDEL', step.hash, step.field)
      end
    elseif step.added then
      redis.call('SREM', KEY_SET, step.member)
    else
      redis.call('SADD', KEY_SET, step.member)
    end
  end
end

-- HSET / HDEL that the undo log can revert; `raw` is the field's value
-- before (false when absent).
local function write_field(hash, field, raw, value)
  undo_log[#undo_log + 1] = {kind = 'field', hash = hash, field = field, raw = raw}
  if value then
    redis.call('HSET', hash, field, value)
  elseif raw then
    redis.call('HDEL', hash, field)
  end
end

-- Adds or removes `member` of C:keys, revertibly.
local function set_key_member(member, present)
  local changed = redis.call(present and 'SADD' or 'SREM', KEY_SET, member)
  if changed == 1 then
    undo_log[#undo_log + 1] = {kind = 'member', member = member, added = present}
  end
end

-- HINCRBY by a canonical int64, revertibly. Returns the reply (a Lua
-- number, exact only below EXACT_LIMIT), or nil and Redis's error text.
-- Undoing it deletes a field it leaves at 0 (which reads as absent): the
-- increment may have created the field.
local function increment(hash, field, amount)
  local reply = redis.pcall('HINCRBY', hash, field, amount)
  if type(reply) == 'table' and reply.err then return nil, reply.err end
  undo_log[#undo_log + 1] = {kind = 'increment', hash = hash, field = field, amount = amount}
  return reply
end

-- The exact decimal text of a field HINCRBY just replied `reply` for.
local function exact_value(hash, field, reply)
  if reply > -EXACT_LIMIT and reply < EXACT_LIMIT then return string.format('%d', reply) end
  return redis.call('HGET', hash, field)
end

-- The error reply for a failed HINCRBY of entry `entry`, after undoing
-- every write of the call.
local function increment_failure(entry, err)
  undo_all()
  if string.find(err, 'overflow', 1, true) then
    return redis.error_reply('OVERFLOW ' .. entry)
  end
  if string.find(err, 'not an integer', 1, true) then
    return redis.error_reply('NOTINT ' .. entry)
  end
  return redis.error_reply(err)
end

-- Whether the instances other than `me` are exactly `ids`, so that the
-- declared count hashes are every instance's.
local function instances_are(ids, me)
  local present = redis.call('ZSCORE', INSTANCES, me) and 1 or 0
  if redis.call('ZCARD', INSTANCES) ~= #ids + present then return false end
  for _, id in ipairs(ids) do
    if id == me or not redis.call('ZSCORE', INSTANCES, id) then return false end
  end
  return true
end

-- {'INSTANCES', id...}: the reply that asks the caller to declare the
-- count hashes of these instances (every one but `me`) and call again.
local function instances_reply(me)
  local reply = {'INSTANCES'}
  for _, id in ipairs(redis.call('ZRANGE', INSTANCES, 0, -1)) do
    if id ~= me then reply[#reply + 1] = id end
  end
  return reply
end

-- HMGET of `fields` in slices that Lua's unpack can take.
local function hmget(hash, fields)
  local values = {}
  for first = 1, #fields, 1000 do
    local part = redis.call('HMGET', hash, unpack(fields, first, math.min(first + 999, #fields)))
    for i = 1, #part do values[first + i - 1] = part[i] end
  end
  return values
end

-- Whether a slice recorded under epoch `seen` (false: none recorded) is
-- stale when its key's epoch is `current` (false: none).
local function is_stale(seen, current)
  return (seen or '0') ~= (current or '0')
end

-- Reconciles this instance's slices of the distinct `fields` (see Epochs
-- above), revertibly. Returns the current epoch of each field ('0' when
-- none), by field.
local function reconcile(fields)
  local current_of = {}
  if #fields == 0 then return current_of end
  local currents, seens = hmget(EPOCH, fields), hmget(MY_EPOCHS, fields)
  for i, field in ipairs(fields) do
    local current = currents[i] or '0'
    current_of[field] = current
    if is_stale(seens[i], current) then
      local slice = redis.call('HGET', MINE, field)
      if slice then write_field(MINE, field, slice, false) end
      write_field(MY_EPOCHS, field, seens[i], current ~= '0' and current)
    end
  end
  return current_of
end
