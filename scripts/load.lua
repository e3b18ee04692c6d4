-- A mixed load for wrk: search, profile, check, grant, and sign-in, in the
-- proportions a busy partner portal sees. Set by scripts/load through env.
local token = os.getenv("LOAD_TOKEN")
local user = os.getenv("LOAD_USER")
local email = os.getenv("LOAD_EMAIL")
local password = os.getenv("LOAD_PASSWORD")
local prefixes = { "ma", "ca", "al", "ja", "pa", "sa", "s", "m" }
local counter = 0

request = function()
  counter = counter + 1
  local slot = counter % 20
  local auth = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  if slot < 8 then
    return wrk.format("GET", "/api/v1/users?q=" .. prefixes[(counter % #prefixes) + 1], auth)
  elseif slot < 12 then
    return wrk.format("GET", "/api/v1/users/" .. user, auth)
  elseif slot < 17 then
    return wrk.format("POST", "/api/v1/check", auth,
      '{"user_id":"' .. user .. '","application":"backlot","capability":"source-management"}')
  elseif slot < 19 then
    return wrk.format("POST", "/api/v1/grants", auth,
      '{"user_ids":["' .. user .. '"],"roles":[{"application":"backlot","role":"content-partner-operations"}]}')
  else
    return wrk.format("POST", "/api/v1/session", { ["Content-Type"] = "application/json" },
      '{"email":"' .. email .. '","password":"' .. password .. '"}')
  end
end

done = function(summary, latency, requests)
  io.write(string.format("requests=%d errors_status=%d errors_socket=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f rps=%.1f\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests / (summary.duration / 1e6)))
end
