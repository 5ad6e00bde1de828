-- wrk script: GET /heroes/<id>/ for ids drawn uniformly from 1..HERO_IDS (default 1000).
local ids = tonumber(os.getenv("HERO_IDS") or "1000")
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/heroes/" .. math.random(1, ids) .. "/")
end
