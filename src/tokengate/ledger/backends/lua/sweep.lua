-- One tenant. KEYS: reservations hash, deadlines zset, settled zset.
-- ARGV: now_us, retention_us, key base, batch size.
-- Returns how many reservations were dropped and how many stay live.
local now_us = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[4])
for _, rid in ipairs(expired) do
  local record = redis.call('HGET', KEYS[1], rid)
  if record then
    release_holds(ARGV[3], record)
    redis.call('HDEL', KEYS[1], rid)
  end
  redis.call('ZREM', KEYS[2], rid)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', int(now_us - tonumber(ARGV[2])))
return {#expired, redis.call('ZCARD', KEYS[2])}
