-- -1, 0 or 1 for two canonical integers ("0" or -?[1-9][0-9]*, any length),
-- without turning either into one Lua number (a double, inexact beyond
-- 2^53): by sign, then length, then the magnitudes nine digits at a time,
-- each part exact as a number.
local function order(a, b)
  if a == b then return 0 end
  local a_negative = string.byte(a, 1) == 45
  if a_negative ~= (string.byte(b, 1) == 45) then return a_negative and -1 or 1 end
  local below
  if #a ~= #b then
    below = #a < #b
  else
    local from, x, y = a_negative and 2 or 1, 0, 0
    while x == y do
      x, y = tonumber(string.sub(a, from, from + 8)), tonumber(string.sub(b, from, from + 8))
      from = from + 9
    end
    below = x < y
  end
  if a_negative then below = not below end
  return below and -1 or 1
end
