-- Take the short "I am loading this" lock of each missed entry and read the entry.
--
-- KEYS: pairs of (lock key, value key). ARGV[1]: the lock's TTL in ms.
-- Returns, per pair, 1 and the entry's value (false if none; for a key of another type, a
-- one-element array naming the type) if the lock was taken, 0 and false if another caller
-- holds it.
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then
    local value = redis.pcall('GET', KEYS[i + 1])
    if type(value) == 'table' then
      value = {redis.call('TYPE', KEYS[i + 1])['ok']}
    end
    out[#out + 1] = 1
    out[#out + 1] = value
  else
    out[#out + 1] = 0
    out[#out + 1] = false
  end
end
return out
