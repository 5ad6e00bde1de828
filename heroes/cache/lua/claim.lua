-- Take the short "I am loading this" lock of each missed entry and read the entries whose
-- lock was taken.
--
-- KEYS: pairs of (lock key, value key). ARGV[1]: the lock's TTL in ms.
-- Returns, per pair, 1 and the entry's value (false if none) if the lock was taken, 0 and
-- false if another caller holds it. The values are read with one MGET, after the locks.
local out, taken = {}, {}
for i = 1, #KEYS, 2 do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then
    out[#out + 1] = 1
    taken[#taken + 1] = #out + 1
  else
    out[#out + 1] = 0
  end
  out[#out + 1] = false
end
if #taken > 0 then
  local keys = {}
  for j, position in ipairs(taken) do
    keys[j] = KEYS[position]
  end
  local values = redis.call('MGET', unpack(keys))
  for j, position in ipairs(taken) do
    out[position] = values[j]
  end
end
return out
