-- KEYS: reservations hash, deadlines zset, settled zset, then one counter key per check.
-- ARGV: request id, now_us, deadline_us, grace_s, retention_us, fixed tokens, fixed cost, fixed
--   requests, output price (micros per million tokens), max output, min output, then per check
--   (sorted by limit id): limit id, kind, window start, window end, metric, mode, ceiling,
--   amount, thresholds.
local HEAD = 11
local rid = ARGV[1]
local live = redis.call('HGET', KEYS[1], rid)
if live then
  return {'live', live}
end
local now_us = tonumber(ARGV[2])
local settled_at = redis.call('ZSCORE', KEYS[3], rid)
if settled_at and tonumber(settled_at) > now_us - tonumber(ARGV[5]) then
  return {'settled'}
end
local now_sec = math.floor(now_us / MICROS)
local fixed = {t = tonumber(ARGV[6]), c = tonumber(ARGV[7]), r = tonumber(ARGV[8])}
local price = tonumber(ARGV[9])
local granted = tonumber(ARGV[10])
local min_out = tonumber(ARGV[11])

-- Output tokens that fit in room: -1 when not even the fixed part does, nil when unbounded.
local function output_fit(metric, room)
  local left = room - fixed[metric]
  if left < 0 then
    return -1
  elseif metric == 't' then
    return left
  elseif metric == 'c' and price > 0 then
    return muldiv_floor(left, MICROS, price)
  end
  return nil
end

local function output_cost(n)
  return muldiv_ceil(n, price, MICROS)
end

local checks, refusal = {}, nil
for i = 1, (#ARGV - HEAD) / 9 do
  local a = HEAD + (i - 1) * 9
  local c = {
    index = i, key = KEYS[3 + i], lid = ARGV[a + 1], kind = ARGV[a + 2], ws = ARGV[a + 3],
    we = ARGV[a + 4], metric = ARGV[a + 5], mode = ARGV[a + 6], ceiling = tonumber(ARGV[a + 7]),
    amount = ARGV[a + 8], th = ARGV[a + 9],
  }
  if c.kind == 'm' then
    local sums
    sums, c.held = rolling(c.key, now_sec, true)
    c.used, c.reserved = sums.u, sums.r
  else
    local v = redis.call('HMGET', c.key, 'u', 'r')
    c.used, c.reserved = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  end
  if c.mode == 'b' then
    local fit = output_fit(c.metric, c.ceiling - c.used - c.reserved)
    if fit ~= nil then
      -- Calendar and lifetime refusals win over rolling ones; else the lowest limit id.
      if fit < min_out and (refusal == nil or (refusal.kind == 'm' and c.kind ~= 'm')) then
        refusal = c
      end
      granted = math.min(granted, fit)
    end
  end
  checks[i] = c
end

if refusal then
  local reset = 0
  if refusal.kind == 'm' then
    local m = refusal.metric
    local needed = fixed[m]
    if m == 't' then
      needed = needed + min_out
    elseif m == 'c' then
      needed = needed + output_cost(min_out)
    end
    local seconds, total = {}, 0
    for sec, held in pairs(refusal.held) do
      seconds[#seconds + 1] = sec
      total = total + held
    end
    table.sort(seconds)
    reset = now_sec + ROLLING
    local freed = 0
    for _, sec in ipairs(seconds) do
      freed = freed + refusal.held[sec]
      if refusal.ceiling - (total - freed) >= needed then
        reset = sec + ROLLING
        break
      end
    end
  end
  return {'deny', refusal.index, int(refusal.used), int(refusal.reserved), int(reset)}
end

local charge = {t = fixed.t + granted, c = fixed.c + output_cost(granted), r = fixed.r}
local holds, counters = {}, {'ok', ''}
for i, c in ipairs(checks) do
  local amount = charge[c.metric]
  local field = 'r'
  if c.kind == 'm' then
    field = c.ws .. ':r'
  end
  redis.call('HINCRBY', c.key, field, int(amount))
  touch(c.key, c.kind, tonumber(c.we), now_us, tonumber(ARGV[4]))
  holds[i] = table.concat({c.lid, c.kind, c.ws, c.we, c.metric, c.mode, int(amount), c.amount, c.th}, ',')
  counters[2 * i + 1] = int(c.used)
  counters[2 * i + 2] = int(c.reserved + amount)
end
local record = table.concat({
  int(granted), ARGV[3], int(charge.t), int(charge.c), int(charge.r), table.concat(holds, ';'),
}, '|')
redis.call('HSET', KEYS[1], rid, record)
redis.call('ZADD', KEYS[2], ARGV[3], rid)
-- the reply: 'ok', the record, then each check's used and reserved as this reservation left them
counters[2] = record
return counters
