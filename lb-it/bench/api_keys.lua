-- wrk script for the ratelimit case: every request carries "X-API-Key: k<n>", n cycling over RL_KEYS keys
-- (environment, default 100000) in order, so each key gets (requests/s) / RL_KEYS requests a second, evenly
-- spaced. The requests are built once in init, so the per-request cost in wrk is a table lookup.
-- With several wrk threads (-t), each starts at its own offset in the cycle.
local keys = tonumber(os.getenv("RL_KEYS") or "100000")
local threads = 0
local reqs = {}
local n = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  local id = tonumber(id or 0)
  for i = 1, keys do
    reqs[i] = wrk.format("GET", wrk.path, { ["X-API-Key"] = "k" .. i })
  end
  n = (id * 7919) % keys
end

function request()
  n = n + 1
  if n > keys then n = 1 end
  return reqs[n]
end
