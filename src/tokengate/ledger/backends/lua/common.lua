-- Shared by every ledger script (prepended to each). Numbers are Lua doubles: every counter and
-- intermediate product stays below 2^53, which the split multiplications below ensure.
local MICROS = 1000000
local ROLLING = 60

-- floor(a * b / d) and ceil(a * b / d) for non-negative integers, without forming a * b.
local function muldiv_floor(a, b, d)
  local q = math.floor(a / d)
  return q * b + math.floor((a - q * d) * b / d)
end

local function muldiv_ceil(a, b, d)
  local q = math.floor(a / d)
  return q * b + math.ceil((a - q * d) * b / d)
end

-- Redis formats Lua numbers in arguments lossily; integers go through %d.
local function int(x)
  return string.format('%d', x)
end

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s, '([^' .. sep .. ']+)') do
    out[#out + 1] = part
  end
  return out
end

-- A stored reservation: "n|deadline_us|tokens|cost|requests|hold;hold;..." where a hold is
-- "limit,kind,window_start,window_end,metric,mode,reserved,amount,t1:t2:t3" (kind c = calendar,
-- l = lifetime, m = rolling minute; metric t/c/r; mode b/o/a; thresholds "-" when none).
local function parse(record)
  local f = split(record, '|')
  local holds = {}
  for _, text in ipairs(split(f[6], ';')) do
    local x = split(text, ',')
    holds[#holds + 1] = {
      lid = x[1], kind = x[2], ws = x[3], we = tonumber(x[4]), metric = x[5], mode = x[6],
      reserved = tonumber(x[7]), amount = tonumber(x[8]), th = x[9],
    }
  end
  return holds
end

-- The hash holding a hold's counter and the prefix of its fields there.
local function target(base, h)
  if h.kind == 'm' then
    return base .. ':m:' .. h.lid, h.ws .. ':'
  end
  return base .. ':c:' .. h.lid .. ':' .. h.ws, ''
end

-- Keep a counter until grace_s after its window ends (rolling buckets: two minutes).
local function touch(key, kind, window_end, now_us, grace_s)
  if kind == 'm' then
    redis.call('PEXPIRE', key, 2 * ROLLING * 1000)
  elseif kind == 'c' then
    local ttl = (window_end + grace_s) * 1000 - math.floor(now_us / 1000)
    redis.call('PEXPIRE', key, int(math.max(ttl, 1)))
  end
end

-- Sums of a rolling counter's in-window buckets, and used + reserved per second;
-- with prune, buckets that left the window are deleted.
local function rolling(key, now_sec, prune)
  local flat = redis.call('HGETALL', key)
  local sums = {u = 0, r = 0, o = 0}
  local held, stale = {}, {}
  for i = 1, #flat, 2 do
    local field = flat[i]
    local sec = tonumber(string.sub(field, 1, -3))
    local part = string.sub(field, -1)
    local value = tonumber(flat[i + 1])
    if sec > now_sec - ROLLING and sec <= now_sec then
      sums[part] = sums[part] + value
      if part ~= 'o' then
        held[sec] = (held[sec] or 0) + value
      end
    elseif sec <= now_sec - ROLLING then
      stale[#stale + 1] = field
    end
  end
  if prune and #stale > 0 then
    redis.call('HDEL', key, unpack(stale))
  end
  return sums, held
end

-- Give back what a reservation holds, without charging anything. A counter that has expired
-- since (its window ended long ago) is left alone rather than recreated without an expiry.
local function release_holds(base, record)
  for _, h in ipairs(parse(record)) do
    local key, prefix = target(base, h)
    if redis.call('EXISTS', key) == 1 then
      redis.call('HINCRBY', key, prefix .. 'r', int(-h.reserved))
    end
  end
end
