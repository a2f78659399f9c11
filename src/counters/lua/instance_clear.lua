-- clear(): removes every key of an instance-aware counter, every
-- instance's slices included.
-- KEYS[1..6]: see instance_common; then the count and slice_epoch hashes
-- of the n others (two per instance, in the order of the ids).
-- ARGV: me, n, the n other ids.
-- Returns "OK", or {'INSTANCES', id...} (nothing changed) when the other
-- instances are not exactly the declared ones: call again with those.
local me, n = ARGV[1], tonumber(ARGV[2])
if not n or #ARGV ~= 2 + n then return redis.error_reply(malformed('arguments')) end
local ids = {}
for i = 1, n do ids[i] = ARGV[2 + i] end
if not instances_are(ids, me) then return instances_reply(me) end
for i = 1, #KEYS, 1000 do
  redis.call('DEL', unpack(KEYS, i, math.min(i + 999, #KEYS)))
end
return 'OK'
