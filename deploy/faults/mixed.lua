-- wrk script of the fault drills: a steady mix of reads and writes through nginx, as one user with the access token
-- in the environment variable TOKEN: GET /api/v1/users/me, POST /api/v1/tasks with a unique Idempotency-Key, and
-- POST /api/v1/tasks without one, in turn. Every response other than 200/201 counts as a failure in wrk's summary.
-- KEY_PREFIX (default "drill") starts every key, so consecutive runs as one user send new keys.
local token = "Bearer " .. os.getenv("TOKEN")
local n = 0
local tag = "t"
local prefix = os.getenv("KEY_PREFIX") or "drill"

request = function()
  n = n + 1
  local kind = n % 3
  if kind == 0 then
    return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = token })
  end
  local headers = { ["Authorization"] = token, ["Content-Type"] = "application/json" }
  if kind == 1 then
    headers["Idempotency-Key"] = '"' .. prefix .. "-" .. tag .. "-" .. n .. '"'
  end
  return wrk.format("POST", "/api/v1/tasks", headers, '{"title":"Drill task ' .. n .. '"}')
end

-- Every thread has a Lua state of its own with the same random seed, so each is told its number here, for keys that
-- differ between threads.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("number", threads)
end

init = function(args)
  tag = tostring(wrk.thread:get("number"))
end
