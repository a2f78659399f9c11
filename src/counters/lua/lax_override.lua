-- LaxCounter's immediate set_if/set_all_if/del over a batch (set and
-- set_all are one plain HSET). The caller runs it only when none of its
-- flushes is in flight, so Redis holds everything it flushed and nothing
-- else of its pending deltas.
-- KEYS[1]: the hash. ARGV[1]: "set" or "del". Then the entries:
--   "set": 7 each: field, op, operand, operand_plain, amount, low, high.
--          `operand` is the caller's operand minus its pending delta for
--          the key, a canonical integer of any length; operand_plain (the
--          caller's operand) applies once an earlier entry of this call
--          wrote the field, as the pending delta is then overridden. amount
--          is canonical int64.
--   "del": 3 each: field, low, high.
--   low and high (canonical integers of any length) bound the value Redis
--   may hold so that it plus the caller's pending delta stays in int64;
--   they apply until an earlier entry of this call wrote the field.
-- Returns per entry: value before, "1"/"0" applied, "1"/"0" an earlier
-- entry of this call wrote the field. "NOTINT <i>" or "OVERFLOW <i>" (the
-- value plus the pending delta leaves int64) undoes every write of the call
-- first.
local hash, mode = KEYS[1], ARGV[1]
local width = (mode == 'set' and 7) or (mode == 'del' and 3) or nil
local count = width and entry_count(2, width)
if not count then return redis.error_reply(malformed('arguments')) end
local journal = new_journal(hash)
local written = {}
local result = {}
for entry = 1, count do
  local i = 2 + width * (entry - 1)
  local field = ARGV[i]
  local low, high = ARGV[i + width - 2], ARGV[i + width - 1]
  if not (is_integer(low) and is_integer(high)) or (mode == 'set' and not (is_op(ARGV[i + 1])
      and is_integer(ARGV[i + 2]) and is_integer(ARGV[i + 3]) and is_int64(ARGV[i + 4]))) then
    return fail(journal, malformed('entry ' .. entry))
  end
  local raw, current = read_counter(hash, field)
  if not current then return fail(journal, 'NOTINT ' .. entry) end
  local earlier = written[field] == true
  if not earlier and (order(current, low) < 0
      or order(current, high) > 0) then
    return fail(journal, 'OVERFLOW ' .. entry)
  end
  local applied = true
  if mode == 'set' then
    applied = matches(ARGV[i + 1], current, earlier and ARGV[i + 3] or ARGV[i + 2])
    if applied then
      journal.touch(field, raw)
      redis.call('HSET', hash, field, ARGV[i + 4])
    end
  else
    journal.touch(field, raw)
    redis.call('HDEL', hash, field)
  end
  if applied then written[field] = true end
  result[#result + 1] = current
  result[#result + 1] = applied and '1' or '0'
  result[#result + 1] = earlier and '1' or '0'
end
return result
