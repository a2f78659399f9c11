-- StrictCounter's inc/set with optional conditions, over a batch.
-- KEYS[1]: the counter's hash.
-- ARGV[1]: "inc" or "set"; then per entry: field, comparator op, operand,
--          amount (operand and amount canonical int64).
-- Returns per entry: new value, previous value, "1"/"0" (applied), all as
-- strings. Errors "OVERFLOW <i>" / "NOTINT <i>" (1-based entry) leave the
-- hash as it was.
local hash = KEYS[1]
local mode = ARGV[1]
local journal = new_journal(hash)
local result = {}
local entry = 0
for i = 2, #ARGV, 4 do
  entry = entry + 1
  local field, op, operand, amount = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local current, raw = read_int64(hash, field)
  if not current then return fail(journal, 'NOTINT', entry) end
  local value = current
  local applied = '0'
  if matches(op, current, operand) then
    journal.touch(field, raw)
    if mode == 'inc' then
      local reply = redis.pcall('HINCRBY', hash, field, amount)
      if type(reply) == 'table' and reply.err then
        if string.find(reply.err, 'overflow', 1, true) then
          return fail(journal, 'OVERFLOW', entry)
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
