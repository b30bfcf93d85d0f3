-- One wrk scenario, configured by environment variables so every scenario shares this script:
--   BENCH_METHOD (GET), BENCH_PATH (may contain {id}), BENCH_IDS (file of ids, one a line),
--   BENCH_BODY (JSON body), BENCH_TOKEN (bearer access token), BENCH_OWNER (X-Owner-Id, read by the floor),
--   BENCH_OUT (where done() writes its JSON summary; latencies in microseconds).
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
local ids_file = os.getenv("BENCH_IDS")
local headers = {}
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
local owner = os.getenv("BENCH_OWNER")
if owner and owner ~= "" then headers["X-Owner-Id"] = owner end
if body then headers["Content-Type"] = "application/json" end

local ids = nil
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
  if ids_file and ids_file ~= "" then
    ids = {}
    for line in io.lines(ids_file) do ids[#ids + 1] = line end
  end
end

function request()
  local p = path
  if ids then p = string.gsub(path, "{id}", ids[math.random(#ids)]) end
  return wrk.format(method, p, headers, body)
end

function done(summary, latency, requests)
  local f = io.open(os.getenv("BENCH_OUT"), "w")
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"errors_status":%d,"errors_socket":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.mean, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  f:close()
end
