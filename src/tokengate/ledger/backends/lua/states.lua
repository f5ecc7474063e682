-- KEYS: one counter key per check. ARGV: now_us, then the kind of each check.
-- Returns used, reserved and overage of each check, flat.
local now_sec = math.floor(tonumber(ARGV[1]) / MICROS)
local out = {}
for i, key in ipairs(KEYS) do
  local u, r, o
  if ARGV[i + 1] == 'm' then
    local sums = rolling(key, now_sec, false)
    u, r, o = sums.u, sums.r, sums.o
  else
    local v = redis.call('HMGET', key, 'u', 'r', 'o')
    u, r, o = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
  end
  out[#out + 1] = int(u)
  out[#out + 1] = int(r)
  out[#out + 1] = int(o)
end
return out
