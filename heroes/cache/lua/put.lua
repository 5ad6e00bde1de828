-- Version-checked writes of hero entries, then the release of loading locks.
--
-- KEYS: the n value keys written, then the lock keys to delete.
-- ARGV: n, then four per value key: version, body (checksum and payload; empty for a
-- marker), TTL in ms, and "repair": the exact bytes a reader found unreadable at that
-- key (empty if none).
-- Returns the keys that held another type than a string (replaced).
--
-- A value is replaced only if no newer version is held. At an equal version a marker and
-- data may replace each other (an eviction, a refill), but a value never replaces its own
-- kind: that would only rewrite the same bytes. What is not a value of this format at
-- all (another type, bytes without a numeric version or with one above the tombstone's,
-- or exactly what a reader reported unreadable) is overwritten: bad state from outside
-- heals on the next write.
--
-- One MGET reads every current value (it answers nil for a key of another type), and each
-- write is one SET: the server runs n + 1 commands, not 2n.
local TOMBSTONE = 4611686018427387904  -- 2^62, heroes/cache/values.py
local n = tonumber(ARGV[1])
local replaced = {}
if n > 0 then
  local held_values = redis.call('MGET', unpack(KEYS, 1, n))
  for i = 1, n do
    local base = 2 + (i - 1) * 4
    local version, body, ttl, repair = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
    local current = held_values[i]
    local write = true
    if current and current ~= repair then
      local sep = string.find(current, ':', 1, true)
      local held = sep and tonumber(string.sub(current, 1, sep - 1))
      if held and held <= TOMBSTONE then
        local incoming = tonumber(version)
        if held > incoming or (held == incoming and ((sep < #current) == (body ~= ''))) then
          write = false
        end
      end
    end
    if write then
      local value = version .. ':' .. body
      if current then
        redis.call('SET', KEYS[i], value, 'PX', ttl)
      elseif type(redis.pcall('SET', KEYS[i], value, 'PX', ttl, 'GET')) == 'table' then
        -- SET ... GET refuses a key of another type (and leaves it): replace it.
        redis.call('SET', KEYS[i], value, 'PX', ttl)
        replaced[#replaced + 1] = KEYS[i]
      end
    end
  end
end
if #KEYS > n then
  redis.call('DEL', unpack(KEYS, n + 1))
end
return replaced
