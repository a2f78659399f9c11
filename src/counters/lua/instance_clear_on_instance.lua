-- clear_on_instance(): removes all of this instance's slices from the
-- totals, then its count hash. KEYS[1..5]: see instance_common.
-- ARGV: me. Returns "OK"; "OVERFLOW <i>" (i-th slice, in HGETALL order)
-- after undoing everything when a total would leave int64.
local me = ARGV[1]
redis.call('ZADD', INSTANCES, now_ms(), me)
local slices = redis.call('HGETALL', MINE)
for j = 1, #slices, 2 do
  local field, value = slices[j], slices[j + 1]
  if not is_int64(value) then
    undo_all()
    return redis.error_reply('NOTINT ' .. (j + 1) / 2)
  end
  for _, piece in ipairs(negated(value)) do
    local _, err = increment(CUMULATIVE, field, piece)
    if err then return increment_failure((j + 1) / 2, err) end
  end
end
redis.call('DEL', MINE)
return 'OK'
