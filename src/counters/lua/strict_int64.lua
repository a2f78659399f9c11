-- The check shared by the StrictCounter scripts that read a field before
-- acting on it; each such script is sent as this file, a newline, then its
-- body.
--
-- Values stay decimal strings and never become Lua numbers (doubles, inexact
-- beyond 2^53).

-- -1, 0 or 1 for two strings of equal length, byte by byte: Lua's string
-- `<` follows the server's locale (strcoll), digits and '-' must not.
local function bytes_order(a, b)
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end

-- Whether `s` is a canonical int64 ("0" or -?[1-9][0-9]* in range): exactly
-- the strings HINCRBY accepts.
local function is_int64(s)
  if s == '0' then return true end
  local digits = string.match(s, '^%-?([1-9][0-9]*)$')
  if not digits or #digits > 19 then return false end
  if #digits < 19 then return true end
  local limit = #digits < #s and '9223372036854775808' or '9223372036854775807'
  return bytes_order(digits, limit) <= 0
end
