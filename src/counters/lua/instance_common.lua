-- Shared by the instance-aware counter scripts; sent after the prelude and
-- before each script's body.
--
-- KEYS[1..6] of every instance script, C = <prefix>:instance_aware_counter
-- (strict) or <prefix>:lax_instance_aware_counter (lax; same keys):
--   C:epoch (hash key -> epoch), C:instances (zset id -> last heartbeat ms),
--   C:cumulative (hash key -> total), C:keys (set of keys with a total),
--   C:count:<this instance> (hash key -> this instance's slice),
--   C:slice_epoch:<this instance> (hash key -> the epoch of the key under
--     which this instance's slice was written; absent means '0'; the field
--     '' marks an instance that keeps this record, see below; the field
--     ':removing' a removal under way, see finish_own_removal).
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

-- The most slices of dead instances one call removes, so that no caller
-- pays for a huge removal: a bigger instance goes over several calls.
local CLEANUP_BUDGET = 1000
-- The field of C:slice_epoch:<id> that marks an instance whose removal is
-- under way (it had more slices than one call removes). No key has a ':'.
local REMOVING = ':removing'

-- How long a slice_epoch hash lives without its instance's heartbeat.
local function slice_epochs_ttl(threshold)
  return math.max(3600000, 10 * threshold)
end

-- Removes at most `budget` slices of a dead instance's count hash `hash`
-- (`epochs` its slice_epoch hash) from the totals, and deletes them. A
-- total that the removal would push out of int64 stops at the bound. A
-- stale slice of a distkit C++ instance is not subtracted (the global write
-- that staled it left it out of the total); other instances' slices all
-- are, as the Rust distkit does. Returns how many slices it removed and
-- whether the hash is empty now.
local function remove_slices(hash, epochs, budget)
  local size = redis.call('HLEN', hash)
  local slices
  if size <= budget then
    slices = redis.call('HGETALL', hash)
  else
    slices = redis.call('HRANDFIELD', hash, budget, 'WITHVALUES')
  end
  local stale = {}
  if #slices > 0 and redis.call('HEXISTS', epochs, TRACKED) == 1 then
    local fields = {}
    for j = 1, #slices, 2 do fields[#fields + 1] = slices[j] end
    local currents, seens = hmget(EPOCH, fields), hmget(epochs, fields)
    for k, field in ipairs(fields) do stale[field] = is_stale(seens[k], currents[k]) end
  end
  for j = 1, #slices, 2 do
    local field, value = slices[j], slices[j + 1]
    if is_int64(value) and not stale[field] then
      for _, piece in ipairs(negated(value)) do
        local reply = redis.pcall('HINCRBY', CUMULATIVE, field, piece)
        if type(reply) == 'table' and reply.err and string.find(reply.err, 'overflow', 1, true) then
          redis.call('HSET', CUMULATIVE, field, is_negative(piece) and INT64_MIN or INT64_MAX)
        end
      end
    end
    redis.call('HDEL', hash, field)
  end
  return #slices / 2, size <= #slices / 2
end

-- An instance declared dead while it was paused past the threshold finds
-- its slices gone when it resumes. When it had more slices than one call
-- removes, the survivors marked its removal as under way, and it may
-- resume before they finish: it then must not register again with the
-- slices not yet removed. So every script that registers this instance
-- first calls this: while the mark is there it removes up to
-- CLEANUP_BUDGET of its own slices, as a survivor would, and returns false
-- while some remain (the script then stops: changing nothing else, the
-- instance stays dead, and the survivors go on removing too). Once none
-- remain it forgets the slice epochs (the mark included) and returns true:
-- the instance registers again, with empty slices. Instances of the Rust
-- distkit never read the mark (they re-add what they remember instead).
local function finish_own_removal()
  if redis.call('HEXISTS', MY_EPOCHS, REMOVING) == 0 then return true end
  local _, empty = remove_slices(MINE, MY_EPOCHS, CLEANUP_BUDGET)
  if not empty then return false end
  redis.call('DEL', MY_EPOCHS)
  return true
end
