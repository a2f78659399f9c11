-- LaxCounter's flush of pending deltas, applied at most once per number.
-- KEYS[1]: the hash; KEYS[2]: the flush-record hash (instance id -> last
-- applied flush number).
-- ARGV[1]: instance id; ARGV[2]: flush number (a positive integer below
-- 2^53, so tonumber is exact for it); ARGV[3]: record TTL in ms; then pairs
-- of field, delta (canonical int64, fields distinct).
-- Returns {"applied" or "duplicate", then per pair: value after (string),
-- "1"/"0"}. "duplicate" means this number was applied before (a retry after
-- a lost reply): nothing is written again. A delta Redis rejects (overflow,
-- non-integer field) is skipped with "0" and the others still apply.
local hash, record, id = KEYS[1], KEYS[2], ARGV[1]
local seq = tonumber(ARGV[2])
local last = tonumber(redis.call('HGET', record, id) or '0')
local duplicate = last >= seq
local result = {duplicate and 'duplicate' or 'applied'}
for i = 4, #ARGV, 2 do
  local ok = '1'
  if not duplicate then
    local reply = redis.pcall('HINCRBY', hash, ARGV[i], ARGV[i + 1])
    if type(reply) == 'table' and reply.err then ok = '0' end
  end
  result[#result + 1] = redis.call('HGET', hash, ARGV[i]) or '0'
  result[#result + 1] = ok
end
if not duplicate then
  redis.call('HSET', record, id, ARGV[2])
  redis.call('PEXPIRE', record, ARGV[3])
end
return result
