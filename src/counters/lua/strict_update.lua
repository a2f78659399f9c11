-- StrictCounter's inc/set, optionally conditional, over a batch.
-- KEYS[1]: the hash. ARGV[1]: "inc" or "set"; then 4 per entry: field,
-- op, operand, amount (operand and amount canonical int64, which the C++
-- side guarantees by formatting them from int64).
-- Returns 3 strings per entry: new value, previous value, "1"/"0" applied.
-- Entries apply in order, so a repeated field sees the earlier writes.
-- "NOTINT <i>" (field i holds a non-int64) and "OVERFLOW <i>" undo every
-- write of the call first.
--
-- A batch costs about one Redis command per entry: fields are read with
-- HMGET up front, and values after HINCRBY are read back (as strings, since
-- HINCRBY's numeric reply is a double) with one more HMGET at the end,
-- except for a field that later entries of the call look at again.
local hash, mode = KEYS[1], ARGV[1]
local count = entry_count(2, 4)
if not count or (mode ~= 'inc' and mode ~= 'set') then
  return redis.error_reply(malformed('arguments'))
end

-- Check the call's shape and count each field's entries before any write.
local remaining, fields = {}, {}
for entry = 1, count do
  local i = 4 * entry - 2
  if not is_op(ARGV[i + 1]) then return redis.error_reply(malformed('entry ' .. entry)) end
  local field = ARGV[i]
  if not remaining[field] then fields[#fields + 1] = field end
  remaining[field] = (remaining[field] or 0) + 1
end
local originals = read_fields(hash, fields)

local journal = new_journal(hash)
local known = {}        -- field -> current value, once this call has changed it
local read_back = {}    -- result index -> field whose final value goes there
local read_back_fields = {}
local result, n = {}, 0
for entry = 1, count do
  local i = 4 * entry - 2
  local field, op, operand, amount = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local unconditional_inc = mode == 'inc' and op == 'nil'
  local current = known[field]
  if current == nil then
    local raw = originals[field]
    -- An unconditional inc leaves the check to HINCRBY, which accepts
    -- exactly the canonical int64 strings: the common batch stays cheap.
    if raw and not unconditional_inc and not is_int64(raw) then
      return fail(journal, 'NOTINT ' .. entry)
    end
    current = raw or '0'
  end
  remaining[field] = remaining[field] - 1
  local value, applied = current, '0'
  if unconditional_inc or matches(op, current, operand) then
    journal.touch(field, originals[field])
    if mode == 'inc' then
      local reply = redis.pcall('HINCRBY', hash, field, amount)
      if type(reply) == 'table' and reply.err then
        if string.find(reply.err, 'overflow', 1, true) then
          return fail(journal, 'OVERFLOW ' .. entry)
        end
        if string.find(reply.err, 'not an integer', 1, true) then
          return fail(journal, 'NOTINT ' .. entry)
        end
        journal.undo()
        return reply
      end
      if remaining[field] > 0 then
        value = redis.call('HGET', hash, field)
      else
        value = ''  -- filled in by the final read
        read_back[n + 1] = field
        read_back_fields[#read_back_fields + 1] = field
      end
    else
      redis.call('HSET', hash, field, amount)
      value = amount
    end
    applied = '1'
  end
  known[field] = value
  result[n + 1], result[n + 2], result[n + 3] = value, current, applied
  n = n + 3
end

local finals = read_fields(hash, read_back_fields)
for index, field in pairs(read_back) do result[index] = finals[field] end
return result
