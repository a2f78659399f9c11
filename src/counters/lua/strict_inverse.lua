-- Undoes `HINCRBY hash field amount` (amount a canonical int64) by applying
-- its inverse, for the scripts that undo only when an entry fails.
local function add_inverse(hash, field, amount)
  if amount == '-9223372036854775808' then -- its inverse, 2^63, takes two steps
    redis.call('HINCRBY', hash, field, '9223372036854775807')
    redis.call('HINCRBY', hash, field, 1)
  elseif string.byte(amount, 1) == 45 then
    redis.call('HINCRBY', hash, field, string.sub(amount, 2))
  elseif amount ~= '0' then
    redis.call('HINCRBY', hash, field, '-' .. amount)
  end
end
