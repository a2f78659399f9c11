-- StrictCounter's del. KEYS[1]: the hash; ARGV[1]: the field.
-- Returns the value the field had as a string, "0" when absent (then
-- nothing is done). "NOTINT 1" when it holds a non-int64: nothing deleted.
local raw, current = read_counter(KEYS[1], ARGV[1])
if not current then return redis.error_reply('NOTINT 1') end
if raw then redis.call('HDEL', KEYS[1], ARGV[1]) end
return current
