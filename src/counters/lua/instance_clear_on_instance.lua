-- clear_on_instance(): removes all of this instance's slices from the
-- totals (a stale slice is not in them: see Epochs in instance_common),
-- then its count hash. KEYS[1..6]: see instance_common.
-- ARGV: me. Returns "OK"; "OVERFLOW <i>" (i-th slice, in HGETALL order)
-- after undoing everything when a total would leave int64.
local me = ARGV[1]
redis.call('ZADD', INSTANCES, now_ms(), me)
local slices = redis.call('HGETALL', MINE)
local fields = {}
for j = 1, #slices, 2 do fields[#fields + 1] = slices[j] end
local currents, seens = hmget(EPOCH, fields), hmget(MY_EPOCHS, fields)
for j = 1, #slices, 2 do
  local field, value = slices[j], slices[j + 1]
  if not is_int64(value) then
    undo_all()
    return redis.error_reply('NOTINT ' .. (j + 1) / 2)
  end
  local pieces = negated(value)
  if is_stale(seens[(j + 1) / 2], currents[(j + 1) / 2]) then pieces = {} end
  for _, piece in ipairs(pieces) do
    local _, err = increment(CUMULATIVE, field, piece)
    if err then return increment_failure((j + 1) / 2, err) end
  end
end
redis.call('DEL', MINE)
return 'OK'
