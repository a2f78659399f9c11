-- Whether `s` is a canonical int64 ("0" or -?[1-9][0-9]* in range):
-- exactly the strings HINCRBY accepts. A 19-digit value is compared in two
-- halves, each exact as a Lua number (a double).
local function is_int64(s)
  if type(s) ~= 'string' then return false end
  if s == '0' then return true end
  local digits = string.match(s, '^%-?([1-9][0-9]*)$')
  if not digits or #digits > 19 then return false end
  if #digits < 19 then return true end
  local high, low = tonumber(string.sub(digits, 1, 10)), tonumber(string.sub(digits, 11))
  local low_limit = #digits < #s and 854775808 or 854775807
  return high < 9223372036 or (high == 9223372036 and low <= low_limit)
end
