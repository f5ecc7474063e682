-- KEYS: reservations hash, deadlines zset. ARGV: request id, key base.
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then
  return 0
end
release_holds(ARGV[2], record)
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
