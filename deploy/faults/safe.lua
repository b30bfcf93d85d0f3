-- wrk script of the SIGKILL drill: only requests nginx may send to a second instance when the first dies with them
-- in flight: GET /api/v1/users/me, and POST /api/v1/tasks with a unique Idempotency-Key whose task title names the
-- key ("kill-<run>-<thread>-<n>"), so the database shows whether any key created more than one task. The access
-- token is in TOKEN, the run's tag in RUN_TAG.
local token = "Bearer " .. os.getenv("TOKEN")
local run = os.getenv("RUN_TAG")
local thread_tag = "t"
local n = 0

request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = token })
  end
  local key = "kill-" .. run .. "-" .. thread_tag .. "-" .. n
  return wrk.format("POST", "/api/v1/tasks",
    { ["Authorization"] = token, ["Content-Type"] = "application/json", ["Idempotency-Key"] = '"' .. key .. '"' },
    '{"title":"' .. key .. '"}')
end

-- Every thread has a Lua state of its own with the same random seed, so each is told its number here, for keys that
-- differ between threads.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("number", threads)
end

init = function(args)
  thread_tag = tostring(wrk.thread:get("number"))
end
