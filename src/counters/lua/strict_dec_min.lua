-- StrictCounter's dec(key, INT64_MIN), i.e. adding 2^63, which HINCRBY
-- cannot take in one step: INT64_MAX, then 1, within one atomic call.
-- KEYS[1]: the hash; ARGV[1]: the field.
-- Returns the value before (a string; the caller adds 2^63 exactly).
-- "OVERFLOW 1" when the result would leave int64 (the value is not
-- negative), "NOTINT 1" when the field is not an integer; nothing changed.
local hash, field = KEYS[1], ARGV[1]
local before = redis.call('HGET', hash, field)
if not before then return redis.error_reply('OVERFLOW 1') end
local reply = redis.pcall('HINCRBY', hash, field, '9223372036854775807')
if type(reply) == 'table' then
  if string.find(reply.err, 'overflow', 1, true) then return redis.error_reply('OVERFLOW 1') end
  return redis.error_reply('NOTINT 1')
end
-- Only "0" gets here and still overflows: put it back.
reply = redis.pcall('HINCRBY', hash, field, 1)
if type(reply) == 'table' then
  redis.call('HSET', hash, field, before)
  return redis.error_reply('OVERFLOW 1')
end
return before
