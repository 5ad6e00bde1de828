-- Version-checked writes of hero entries, then the release of loading locks.
--
-- KEYS: the n value keys written (each ends with its hero's id), then the lock keys to delete.
-- ARGV: n, then two per value key: the value, exactly as stored (``{version}:{body}``, the
-- body being the payload and its checksum, or empty for a marker), and its TTL in ms.
-- Returns the keys whose value was not one of the cache's (replaced).
--
-- A value is replaced only if no newer version is held. At an equal version a marker and
-- data may replace each other (an eviction, a refill), but a value never replaces its own
-- kind: that would only rewrite the same bytes. What is not a value of the cache's
-- format, judged exactly as heroes/cache/values.py:open_value judges it (a version of 1 to
-- 19 digits, at most the tombstone's; data ending in the CRC-32 of what precedes it), is
-- overwritten whatever version it claims: bad bytes from outside heal on the next write,
-- and never refuse a real write.
--
-- One MGET reads every current value (it answers nil for a key of another type), and each
-- write is one SET: the server runs n + 1 commands, not 2n.
local TOMBSTONE = '4611686018427387904' -- 2^62, as 19 digits

-- zlib's CRC-32 table (reflected, polynomial 0xEDB88320) as LuaBitOp's signed numbers,
-- written out: a script cannot keep state between calls, and building it costs more than
-- the rest of a one-key write (tests/heroes/cache/test_unreadable_entries.py checks it).
local CRC_TABLE = {[0] =
  0, 1996959894, -301047508, -1727442502, 124634137, 1886057615, -379345611, -1637575261,
  249268274, 2044508324, -522852066, -1747789432, 162941995, 2125561021, -407360249, -1866523247,
  498536548, 1789927666, -205950648, -2067906082, 450548861, 1843258603, -187386543, -2083289657,
  325883990, 1684777152, -43845254, -1973040660, 335633487, 1661365465, -99664541, -1928851979,
  997073096, 1281953886, -715111964, -1570279054, 1006888145, 1258607687, -770865667, -1526024853,
  901097722, 1119000684, -608450090, -1396901568, 853044451, 1172266101, -589951537, -1412350631,
  651767980, 1373503546, -925412992, -1076862698, 565507253, 1454621731, -809855591, -1195530993,
  671266974, 1594198024, -972236366, -1324619484, 795835527, 1483230225, -1050600021, -1234817731,
  1994146192, 31158534, -1731059524, -271249366, 1907459465, 112637215, -1614814043, -390540237,
  2013776290, 251722036, -1777751922, -519137256, 2137656763, 141376813, -1855689577, -429695999,
  1802195444, 476864866, -2056965928, -228458418, 1812370925, 453092731, -2113342271, -183516073,
  1706088902, 314042704, -1950435094, -54949764, 1658658271, 366619977, -1932296973, -69972891,
  1303535960, 984961486, -1547960204, -725929758, 1256170817, 1037604311, -1529756563, -740887301,
  1131014506, 879679996, -1385723834, -631195440, 1141124467, 855842277, -1442165665, -586318647,
  1342533948, 654459306, -1106571248, -921952122, 1466479909, 544179635, -1184443383, -832445281,
  1591671054, 702138776, -1328506846, -942167884, 1504918807, 783551873, -1212326853, -1061524307,
  -306674912, -1698712650, 62317068, 1957810842, -355121351, -1647151185, 81470997, 1943803523,
  -480048366, -1805370492, 225274430, 2053790376, -468791541, -1828061283, 167816743, 2097651377,
  -267414716, -2029476910, 503444072, 1762050814, -144550051, -2140837941, 426522225, 1852507879,
  -19653770, -1982649376, 282753626, 1742555852, -105259153, -1900089351, 397917763, 1622183637,
  -690576408, -1580100738, 953729732, 1340076626, -776247311, -1497606297, 1068828381, 1219638859,
  -670225446, -1358292148, 906185462, 1090812512, -547295293, -1469587627, 829329135, 1181335161,
  -882789492, -1134132454, 628085408, 1382605366, -871598187, -1156888829, 570562233, 1426400815,
  -977650754, -1296233688, 733239954, 1555261956, -1026031705, -1244606671, 752459403, 1541320221,
  -1687895376, -328994266, 1969922972, 40735498, -1677130071, -351390145, 1913087877, 83908371,
  -1782625662, -491226604, 2075208622, 213261112, -1831694693, -438977011, 2094854071, 198958881,
  -2032938284, -237706686, 1759359992, 534414190, -2118248755, -155638181, 1873836001, 414664567,
  -2012718362, -15766928, 1711684554, 285281116, -1889165569, -127750551, 1634467795, 376229701,
  -1609899400, -686959890, 1308918612, 956543938, -1486412191, -799009033, 1231636301, 1047427035,
  -1362007478, -640263460, 1088359270, 936918000, -1447252397, -558129467, 1202900863, 817233897,
  -1111625188, -893730166, 1404277552, 615818150, -1160759803, -841546093, 1423857449, 601450431,
  -1285129682, -1000256840, 1567103746, 711928724, -1274298825, -1022587231, 1510334235, 755167117,
}

local RESIDUE = 0x2144DF1C -- the CRC-32 of any bytes followed by their own CRC-32

local function crc32(data, seed)
  -- zlib.crc32(data, seed), as a LuaBitOp number
  local crc = bit.bnot(bit.tobit(seed))
  for i = 1, #data do
    crc = bit.bxor(CRC_TABLE[bit.band(bit.bxor(crc, string.byte(data, i)), 255)], bit.rshift(crc, 8))
  end
  return bit.bnot(crc)
end

-- The checksum's seed: the hero's id, which ends the key, modulo 2^32 (digit by digit, as
-- Lua's numbers are doubles). Only needed to judge a value already there.
local function seed_of(key)
  local digits, seed = string.match(key, '(%d+)$'), 0
  for i = 1, #digits do
    seed = (seed * 10 + string.byte(digits, i) - 48) % 4294967296
  end
  return seed
end

-- The version a value of the cache's format holds (and whether it is data), or nil.
local function held(value, seed)
  local sep = string.find(value, ':', 1, true)
  if not sep or sep == 1 or sep > 20 then return nil end
  local version = string.sub(value, 1, sep - 1)
  if not string.match(version, '^%d+$') or (#version == 19 and version > TOMBSTONE) then return nil end
  if sep == #value then return tonumber(version), false end
  if #value < sep + 5 or crc32(value, seed) ~= RESIDUE then return nil end
  return tonumber(version), true
end

local n = tonumber(ARGV[1])
local replaced = {}
if n > 0 then
  local current_values = redis.call('MGET', unpack(KEYS, 1, n))
  for i = 1, n do
    local value, ttl = ARGV[2 * i], ARGV[2 * i + 1]
    local current = current_values[i]
    local write = true
    if current then
      local held_version, is_data = held(current, seed_of(KEYS[i]))
      if held_version then
        local sep = string.find(value, ':', 1, true)
        local incoming = tonumber(string.sub(value, 1, sep - 1))
        if held_version > incoming or (held_version == incoming and is_data == (sep < #value)) then
          write = false
        end
      else
        replaced[#replaced + 1] = KEYS[i]
      end
    end
    if write then
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
