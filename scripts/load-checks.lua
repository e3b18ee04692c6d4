-- Checks for wrk, for `scripts/load checks`: LOAD_CHECK_MODE is `healthz`
-- (the server's own floor), `check` (one POST /api/v1/check per request,
-- cycling through the people in LOAD_USERS, one id a line) or `batch`
-- (POST /api/v1/check/batch with 100 checks of 100 different people).
local mode = os.getenv("LOAD_CHECK_MODE")
local token = os.getenv("LOAD_TOKEN")
local users = {}
for line in io.lines(os.getenv("LOAD_USERS")) do
  users[#users + 1] = line
end
local capabilities = { "source-management", "download-sources", "create-users", "backlot-api-keys" }
local counter = 0
local auth = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }

local function check(i)
  return '{"user_id":"' .. users[(i % #users) + 1] .. '","application":"backlot","capability":"'
    .. capabilities[(i % #capabilities) + 1] .. '"}'
end

setup = function(thread)
  thread:set("id", math.random(0, 100000))
end

request = function()
  counter = counter + 1
  if mode == "healthz" then
    return wrk.format("GET", "/healthz")
  elseif mode == "check" then
    return wrk.format("POST", "/api/v1/check", auth, check(counter * 7 + (id or 0)))
  else
    local checks = {}
    for k = 1, 100 do
      checks[k] = check(counter * 100 + k + (id or 0))
    end
    return wrk.format("POST", "/api/v1/check/batch", auth, '{"checks":[' .. table.concat(checks, ",") .. "]}")
  end
end

done = function(summary, latency, requests)
  io.write(string.format("requests=%d errors_status=%d errors_socket=%d p50_ms=%.2f p99_ms=%.2f rps=%.1f\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
