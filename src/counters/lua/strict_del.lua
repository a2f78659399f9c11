-- StrictCounter's del. KEYS[1]: the hash; ARGV[1]: the field.
-- Returns the value the field had ("0" when absent); "NOTINT 1" when it does
-- not hold a canonical int64 (and then nothing is deleted).
local current, raw = read_int64(KEYS[1], ARGV[1])
if not current then return redis.error_reply('NOTINT 1') end
if raw then redis.call('HDEL', KEYS[1], ARGV[1]) end
return current
