-- LaxCounter's flush of pending deltas, applied at most once per seq.
-- KEYS[1]: the hash; KEYS[2]: the flush-record hash (instance id -> last
-- applied seq). ARGV[1]: instance id; ARGV[2]: seq (a positive integer
-- below 2^53, so tonumber is exact for it and the record's values);
-- ARGV[3]: record TTL in ms; then pairs: field, delta (canonical int64,
-- non-zero, fields distinct).
-- Returns {"applied" or "duplicate", then per pair "1"/"0"}. "duplicate":
-- the record shows this seq already applied (a retry after a lost reply), so
-- nothing is written and every pair gets "1". A delta Redis rejects
-- (overflow, non-integer field) gets "0" and the other pairs still apply:
-- nothing is undone here. No values are returned: one HINCRBY per key is
-- the whole cost of a flush, and reads refresh values when they are stale.
local hash, record, id, seq = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local count = entry_count(4, 2)
if not count or not tonumber(seq) then return redis.error_reply(malformed('arguments')) end
local last = redis.call('HGET', record, id)
local duplicate = last ~= false and (tonumber(last) or 0) >= tonumber(seq)
local result = {duplicate and 'duplicate' or 'applied'}
for i = 4, #ARGV, 2 do
  local ok = '1'
  if not duplicate then
    local reply = redis.pcall('HINCRBY', hash, ARGV[i], ARGV[i + 1])
    if type(reply) == 'table' and reply.err then ok = '0' end
  end
  result[#result + 1] = ok
end
if not duplicate then
  redis.call('HSET', record, id, seq)
  redis.call('PEXPIRE', record, ARGV[3])
end
return result
