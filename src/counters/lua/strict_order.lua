-- -1, 0 or 1 for two canonical int64 strings, without turning either into
-- one Lua number (a double, inexact beyond 2^53): by sign, then length,
-- then the magnitudes' digits in two parts, each exact as a number.
local function order(a, b)
  if a == b then return 0 end
  local a_negative = string.byte(a, 1) == 45
  if a_negative ~= (string.byte(b, 1) == 45) then return a_negative and -1 or 1 end
  local below
  if #a ~= #b then
    below = #a < #b
  else
    local from, split = a_negative and 2 or 1, #a - 9
    local a_high, b_high = 0, 0
    if split >= from then
      a_high, b_high = tonumber(string.sub(a, from, split)), tonumber(string.sub(b, from, split))
    else
      split = from - 1
    end
    if a_high ~= b_high then
      below = a_high < b_high
    else
      below = tonumber(string.sub(a, split + 1)) < tonumber(string.sub(b, split + 1))
    end
  end
  if a_negative then below = not below end
  return below and -1 or 1
end
