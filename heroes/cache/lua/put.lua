-- Version-checked writes of hero entries, then the release of loading locks.
--
-- KEYS: the n value keys written, then the lock keys to delete.
-- ARGV: n, then four per value key: version, body (checksum and payload; empty for a
-- marker), TTL in ms, and the checksum's seed (the hero's id modulo 2^32).
-- Returns the keys whose value was not one of the cache's (replaced).
--
-- A value is replaced only if no newer version is held. At an equal version a marker and
-- data may replace each other (an eviction, a refill), but a value never replaces its own
-- kind: that would only rewrite the same bytes. What is not a value of the cache's
-- format, judged exactly as heroes/cache/values.py:open_value judges it (a version of 1 to
-- 19 digits, at most the tombstone's; data with the CRC-32 of its payload), is
-- overwritten whatever version it claims: bad bytes from outside heal on the next write,
-- and never refuse a real write.
--
-- One MGET reads every current value (it answers nil for a key of another type), and each
-- write is one SET: the server runs n + 1 commands, not 2n.
local TOMBSTONE = '4611686018427387904' -- 2^62, as 19 digits

local crc_table
local function crc32(data, seed)
  -- zlib's CRC-32 (reflected, polynomial 0xEDB88320), continued from ``seed``.
  if not crc_table then
    crc_table = {}
    for i = 0, 255 do
      local c = i
      for _ = 1, 8 do
        if bit.band(c, 1) == 1 then
          c = bit.bxor(0xEDB88320, bit.rshift(c, 1))
        else
          c = bit.rshift(c, 1)
        end
      end
      crc_table[i] = c
    end
  end
  local crc = bit.bnot(bit.tobit(seed))
  for i = 1, #data do
    crc = bit.bxor(crc_table[bit.band(bit.bxor(crc, string.byte(data, i)), 255)], bit.rshift(crc, 8))
  end
  return bit.tohex(bit.bnot(crc))
end

-- The version a value of the cache's format holds (and whether it is data), or nil.
local function held(value, seed)
  local sep = string.find(value, ':', 1, true)
  if not sep or sep == 1 or sep > 20 then return nil end
  local version = string.sub(value, 1, sep - 1)
  if not string.match(version, '^%d+$') or (#version == 19 and version > TOMBSTONE) then return nil end
  if sep == #value then return tonumber(version), false end
  if #value < sep + 9 or string.sub(value, sep + 1, sep + 8) ~= crc32(string.sub(value, sep + 9), seed) then
    return nil
  end
  return tonumber(version), true
end

local n = tonumber(ARGV[1])
local replaced = {}
if n > 0 then
  local current_values = redis.call('MGET', unpack(KEYS, 1, n))
  for i = 1, n do
    local base = 2 + (i - 1) * 4
    local version, body, ttl, seed = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
    local current = current_values[i]
    local write = true
    if current then
      local held_version, is_data = held(current, tonumber(seed))
      if held_version then
        local incoming = tonumber(version)
        if held_version > incoming or (held_version == incoming and is_data == (body ~= '')) then
          write = false
        end
      else
        replaced[#replaced + 1] = KEYS[i]
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
