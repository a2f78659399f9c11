-- Every call of an instance-aware counter but clear and clear_on_instance,
-- over a batch, with the heartbeat and the removal of dead instances.
-- KEYS[1..6]: see instance_common. Then, for each of the n_dead instances
-- to clean up, its count hash and its slice_epoch hash; then the count
-- hashes of the n_others instances whose slices global writes reset.
-- ARGV: me, dead_threshold_ms, want_previous ("1": read the values before
-- even for unconditional incs), n_dead, n_others, the n_dead ids, the
-- n_others ids, then 5 per entry: mode, field, op, operand, amount, where
-- mode is one of
--   get   read
--   inc   add amount to the slice and the total, if op matches the total
--   set   global: total and this slice = amount, every other slice of the
--         key removed, epoch bumped; if op matches the total
--   seti  this slice = amount, the total moved by the difference; if op
--         matches the slice
--   del   global: the key's total and every slice removed, epoch bumped
--   deli  this slice removed from the total and deleted
-- Every entry's slice is reconciled with its key's epoch first (see
-- instance_common); a call without entries is the heartbeat, which also
-- marks and keeps this instance's slice_epoch hash (TTL: the larger of an
-- hour and ten thresholds, renewed by every heartbeat).
-- Returns, unless it must be called again, 5 strings per entry: total and
-- slice after, total and slice before ("" when not read), "1"/"0" applied.
-- It must be called again, having changed nothing but the heartbeat, with:
--   {'DEAD', id...}: instances past the threshold; call with their count
--     hashes declared. Their removal (at most CLEANUP_BUDGET slices per
--     call) then replaces the check, so that a call always progresses.
--   {'INSTANCES', id...}: a global write needs every other instance's
--     count hash declared; these are the instances now.
--   {'REMOVING'}: this instance was declared dead and its removal is under
--     way; this call removed up to CLEANUP_BUDGET of its remaining slices
--     (see finish_own_removal) and changed nothing else.
-- Errors: "OVERFLOW <i>", "NOTINT <i>" (entry i), or any other error a
-- command raised (WRONGTYPE ...), each after undoing everything.
local me, threshold = ARGV[1], tonumber(ARGV[2])
local want_previous = ARGV[3] == '1'
local n_dead, n_others = tonumber(ARGV[4]), tonumber(ARGV[5])
local first_entry = 6 + n_dead + n_others
local count = entry_count(first_entry, 5)
if not threshold or not count then return redis.error_reply(malformed('arguments')) end

if not finish_own_removal() then return {'REMOVING'} end
local now = now_ms()
local cutoff = now - threshold
redis.call('ZADD', INSTANCES, now, me)
if count == 0 then
  redis.call('HSET', MY_EPOCHS, TRACKED, '1')
  redis.call('PEXPIRE', MY_EPOCHS, slice_epochs_ttl(threshold))
end

-- Removes the slices of dead instances (see remove_slices), at most
-- CLEANUP_BUDGET per call, and forgets an instance once its count hash is
-- empty. An instance left with slices is marked as being removed (see
-- finish_own_removal).
local function remove_dead()
  local budget = CLEANUP_BUDGET
  for i = 1, n_dead do
    if budget <= 0 then return end
    local id, hash, epochs = ARGV[5 + i], KEYS[5 + 2 * i], KEYS[6 + 2 * i]
    local score = redis.call('ZSCORE', INSTANCES, id)
    if id ~= me and score and tonumber(score) < cutoff then
      local removed, empty = remove_slices(hash, epochs, budget)
      budget = budget - removed
      if empty then
        redis.call('ZREM', INSTANCES, id)
        redis.call('DEL', epochs)
      else
        redis.call('HSET', epochs, REMOVING, '1')
        -- A Rust instance has no such hash of its own: give it a TTL.
        if redis.call('PTTL', epochs) < 0 then
          redis.call('PEXPIRE', epochs, slice_epochs_ttl(threshold))
        end
      end
    end
  end
end

if n_dead > 0 then
  remove_dead()
else
  local dead = redis.call('ZRANGE', INSTANCES, '-inf', '(' .. cutoff, 'BYSCORE', 'LIMIT', 0, 16)
  if #dead > 0 then
    table.insert(dead, 1, 'DEAD')
    return dead
  end
end

local others = {}
for i = 1, n_others do others[i] = {id = ARGV[5 + n_dead + i], hash = KEYS[6 + 2 * n_dead + i]} end

local global = false
for entry = 1, count do
  local i = first_entry + 5 * (entry - 1)
  local mode = ARGV[i]
  if mode == 'set' or mode == 'del' then
    global = true
  elseif mode ~= 'get' and mode ~= 'inc' and mode ~= 'seti' and mode ~= 'deli' then
    return redis.error_reply(malformed('entry ' .. entry))
  end
  if not is_op(ARGV[i + 2]) or not is_int64(ARGV[i + 3]) or not is_int64(ARGV[i + 4]) then
    return redis.error_reply(malformed('entry ' .. entry))
  end
end
if global then
  local ids = {}
  for k, other in ipairs(others) do ids[k] = other.id end
  if not instances_are(ids, me) then return instances_reply(me) end
end

-- A field's raw value and its value as a counter ("0" when absent), or the
-- NOTINT error of `entry` when it holds anything else.
local function read(hash, field, entry)
  local raw = redis.call('HGET', hash, field)
  if not raw then return false, '0' end
  if not is_int64(raw) then return raw, nil, 'NOTINT ' .. entry end
  return raw, raw
end

-- Epochs count global writes per key, as the Rust distkit's do: +1, and
-- after u64::MAX / 2 (== INT64_MAX) back to 0. This instance's slice is
-- written under the new epoch, which its slice_epoch hash records.
local function bump_epoch(field)
  local raw = redis.call('HGET', EPOCH, field)
  local next_epoch = '1'
  if raw == INT64_MAX then
    next_epoch = '0'
  elseif raw and is_int64(raw) and not is_negative(raw) then
    next_epoch = false
  end
  undo_log[#undo_log + 1] = {kind = 'field', hash = EPOCH, field = field, raw = raw}
  if next_epoch then
    redis.call('HSET', EPOCH, field, next_epoch)
  else
    next_epoch = exact_value(EPOCH, field, redis.call('HINCRBY', EPOCH, field, 1))
  end
  write_field(MY_EPOCHS, field, redis.call('HGET', MY_EPOCHS, field), next_epoch)
end

-- Removes `field` from every other instance's slices.
local function reset_others(field)
  for _, other in ipairs(others) do
    local raw = redis.call('HGET', other.hash, field)
    if raw then write_field(other.hash, field, raw, false) end
  end
end

-- Adds `pieces` to the total of `field`; the order keeps every partial sum
-- in int64 whenever the final one is. Returns the error text or nil.
local function add_to_total(field, total, pieces)
  table.sort(pieces, function(a, b)
    return (is_negative(a) and 0 or 1) < (is_negative(b) and 0 or 1)
  end)
  local from, to, step = 1, #pieces, 1
  if is_negative(total) then from, to, step = #pieces, 1, -1 end
  for k = from, to, step do
    local _, err = increment(CUMULATIVE, field, pieces[k])
    if err then return err end
  end
  return nil
end

-- Every write below is in the undo log. A command that raises (a key of
-- another type under a name this call writes without reading first, such
-- as C:keys) is caught and everything is undone: Redis does not roll a
-- failed script back, and the caller retries an error as not applied.
local function apply_entries()
  local fields, listed = {}, {}
  for entry = 1, count do
    local field = ARGV[first_entry + 5 * (entry - 1) + 1]
    if not listed[field] then
      listed[field] = true
      fields[#fields + 1] = field
    end
  end
  reconcile(fields)

  local result = {}
  for entry = 1, count do
    local i = first_entry + 5 * (entry - 1)
    local mode, field, op, operand, amount = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
    local total_raw, total, slice_raw, slice = false, '', false, ''
    local reads = mode ~= 'inc' or op ~= 'nil' or want_previous
    if reads then
      local err
      total_raw, total, err = read(CUMULATIVE, field, entry)
      if err then undo_all() return redis.error_reply(err) end
      slice_raw, slice, err = read(MINE, field, entry)
      if err then undo_all() return redis.error_reply(err) end
    end
    local new_total, new_slice, applied = total, slice, true
    if mode == 'inc' or mode == 'set' then
      applied = matches(op, total, operand)
    elseif mode == 'seti' then
      applied = matches(op, slice, operand)
    end
    if applied and mode == 'inc' then
      local slice_reply, err = increment(MINE, field, amount)
      if err then return increment_failure(entry, err) end
      local total_reply
      total_reply, err = increment(CUMULATIVE, field, amount)
      if err then return increment_failure(entry, err) end
      new_total = exact_value(CUMULATIVE, field, total_reply)
      new_slice = exact_value(MINE, field, slice_reply)
      -- Only a total that was 0 (or absent) can be new to C:keys.
      if new_total == amount then set_key_member(field, true) end
    elseif applied and mode == 'set' then
      bump_epoch(field)
      write_field(CUMULATIVE, field, total_raw, amount)
      write_field(MINE, field, slice_raw, amount)
      reset_others(field)
      set_key_member(field, true)
      new_total, new_slice = amount, amount
    elseif applied and mode == 'seti' then
      local pieces = negated(slice)
      pieces[#pieces + 1] = amount
      local err = add_to_total(field, total, pieces)
      if err then return increment_failure(entry, err) end
      write_field(MINE, field, slice_raw, amount)
      new_total = redis.call('HGET', CUMULATIVE, field)
      set_key_member(field, true)
      new_slice = amount
    elseif mode == 'del' then
      bump_epoch(field)
      write_field(CUMULATIVE, field, total_raw, false)
      write_field(MINE, field, slice_raw, false)
      reset_others(field)
      set_key_member(field, false)
      new_total, new_slice = '0', '0'
    elseif mode == 'deli' then
      local err = add_to_total(field, total, negated(slice))
      if err then return increment_failure(entry, err) end
      write_field(MINE, field, slice_raw, false)
      new_total = redis.call('HGET', CUMULATIVE, field) or '0'
      new_slice = slice
    end
    result[#result + 1] = new_total
    result[#result + 1] = new_slice
    result[#result + 1] = total
    result[#result + 1] = slice
    result[#result + 1] = applied and '1' or '0'
  end
  return result
end

local ok, reply = pcall(apply_entries)
if ok then return reply end
undo_all()
if type(reply) == 'table' and reply.err then return redis.error_reply(reply.err) end
return redis.error_reply(tostring(reply))
