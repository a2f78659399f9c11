-- StrictCounter's del: read and delete in one atomic step, two commands.
-- KEYS[1]: the hash; ARGV[1]: the field.
-- Returns the value the field had (nil when absent: nothing to do).
-- "NOTINT 1" when it holds anything but a canonical int64: nothing deleted.
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
if not is_int64(value) then return redis.error_reply('NOTINT 1') end
redis.call('HDEL', KEYS[1], ARGV[1])
return value
