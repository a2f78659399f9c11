-- StrictCounter's inc/set, optionally conditional, over a batch.
-- KEYS[1]: the hash. ARGV[1]: "inc" or "set"; then 4 per entry: field,
-- op, operand, amount (operand and amount canonical int64, which the C++
-- side guarantees by formatting them from int64: not re-checked here, as
-- this loop is the cost of a 100,000-entry batch).
-- Returns 3 strings per entry: new value, previous value, "1"/"0" applied.
-- Entries apply in order, so a repeated field sees the earlier writes.
-- "NOTINT <i>" (field i holds a non-int64) and "OVERFLOW <i>" undo every
-- write of the call first.
local hash, mode = KEYS[1], ARGV[1]
local count = entry_count(2, 4)
if not count or (mode ~= 'inc' and mode ~= 'set') then
  return redis.error_reply(malformed('arguments'))
end
local journal = new_journal(hash)
local result = {}
for entry = 1, count do
  local i = 4 * entry - 2
  local field, op, operand, amount = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if not is_op(op) then
    return fail(journal, malformed('entry ' .. entry))
  end
  local raw, current = read_counter(hash, field)
  if not current then return fail(journal, 'NOTINT ' .. entry) end
  local value, applied = current, '0'
  if matches(op, current, operand) then
    journal.touch(field, raw)
    if mode == 'inc' then
      -- pcall: an overflow must come back here to be undone, and HINCRBY's
      -- numeric reply is a double, so the new value is read back as a string.
      local reply = redis.pcall('HINCRBY', hash, field, amount)
      if type(reply) == 'table' and reply.err then
        if string.find(reply.err, 'overflow', 1, true) then
          return fail(journal, 'OVERFLOW ' .. entry)
        end
        journal.undo()
        return reply
      end
      value = redis.call('HGET', hash, field)
    else
      redis.call('HSET', hash, field, amount)
      value = amount
    end
    applied = '1'
  end
  result[#result + 1] = value
  result[#result + 1] = current
  result[#result + 1] = applied
end
return result
