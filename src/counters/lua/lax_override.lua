-- LaxCounter's immediate set/set_if/del over a batch.
-- KEYS[1]: the hash. ARGV[1]: "set" or "del", then the entries:
--   "set": field, op, operand, plain operand, amount. `operand` is the
--          caller's operand minus its pending delta for the key, a canonical
--          integer that may leave the int64 range; the plain operand applies
--          once an earlier entry of this call has written the field (the
--          pending delta is then overridden). amount is canonical int64.
--   "del": field.
-- Returns per entry: value before (string), "1"/"0" applied, "1"/"0" an
-- earlier entry of this call wrote the field. "NOTINT <i>" leaves the hash
-- as it was.
local hash, mode = KEYS[1], ARGV[1]
local width = mode == 'set' and 5 or 1
local journal = new_journal(hash)
local written = {}
local result = {}
local entry = 0
for i = 2, #ARGV, width do
  entry = entry + 1
  local field = ARGV[i]
  local current, raw = read_int64(hash, field)
  if not current then return fail(journal, 'NOTINT', entry) end
  local earlier = written[field] == true
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
