-- KEYS: reservations hash, deadlines zset, settled zset.
-- ARGV: request id, now_us, grace_s, retention_us, key base, actual tokens, cost, requests.
local rid = ARGV[1]
local record = redis.call('HGET', KEYS[1], rid)
if not record then
  if redis.call('ZSCORE', KEYS[3], rid) then
    return {'already_settled'}
  end
  return {'unknown'}
end
local now_us = tonumber(ARGV[2])
local now_sec = math.floor(now_us / MICROS)
local actual = {t = tonumber(ARGV[6]), c = tonumber(ARGV[7]), r = tonumber(ARGV[8])}
local crossed, overage = {}, {}
for _, h in ipairs(parse(record)) do
  local key, prefix = target(ARGV[5], h)
  local added = actual[h.metric]
  local before, after
  if h.kind == 'm' then
    before = 0
    if h.mode == 'o' then
      before = rolling(key, now_sec, false).u
    end
    local sec = tonumber(h.ws)
    after = before
    if sec > now_sec - ROLLING and sec <= now_sec then
      after = before + added
    end
  else
    before = tonumber(redis.call('HGET', key, 'u')) or 0
    after = before + added
  end
  redis.call('HINCRBY', key, prefix .. 'r', int(-h.reserved))
  redis.call('HINCRBY', key, prefix .. 'u', int(added))
  if h.mode == 'o' then
    local over = math.max(0, after - math.max(before, h.amount))
    if over > 0 then
      redis.call('HINCRBY', key, prefix .. 'o', int(over))
      overage[#overage + 1] = {h.lid, h.ws, int(over)}
    end
  end
  if h.kind ~= 'm' and h.th ~= '-' then
    for _, t in ipairs(split(h.th, ':')) do
      local mark = muldiv_ceil(h.amount, tonumber(t), 100)
      if before < mark and mark <= after then
        crossed[#crossed + 1] = {h.lid, h.ws, t, int(after), int(h.amount)}
      end
    end
  end
  touch(key, h.kind, h.we, now_us, tonumber(ARGV[3]))
end
redis.call('HDEL', KEYS[1], rid)
redis.call('ZREM', KEYS[2], rid)
redis.call('ZADD', KEYS[3], ARGV[2], rid)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', int(now_us - tonumber(ARGV[4])))
redis.call('PEXPIRE', KEYS[3], int(math.ceil(tonumber(ARGV[4]) / 1000)))
return {'settled', crossed, overage}
