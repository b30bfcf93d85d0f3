#!/usr/bin/env bash
# SliceApi benchmark: SliceApi (Release) against a raw-Npgsql floor on the same PostgreSQL, driven by wrk,
# in alternation, after a warm-up. Prints one table and writes the same as JSON under bench/results/.
#
#   bench/run.sh                  100,000 tasks over 1,000 users, 10 s per measured run, 2 rounds
#   bench/run.sh --million        1,000,000 tasks over 10,000 users, 200,000 of them the benchmark user's (the deep-page
#                                 target is defined at this size; issue 20: every route within 1.25 x its 100,000-task figure)
#   bench/run.sh --tasks N --users N --duration S --rounds N --connections N --threads N --no-pipeline
#   bench/run.sh --only get_by_id    runs one scenario (get_by_id, list_first_page, list_deep_page,
#                                list_user_page, create, changes_page, login)
#   bench/run.sh --trace get_by_id   also samples SliceApi's thread stacks with dotnet-trace during that
#                                    scenario's first measured run (`dotnet tool install -g dotnet-trace`)
#                                    and writes the hottest managed frames to bench/.out/<scenario>.hotspots.txt
#   BENCH_SLICE_ENV="Name=value ..."   extra environment for SliceApi only (a GC setting, Database__MaxAutoPrepare=0)
#   BENCH_SLICE_CS_EXTRA=";Key=value"  appended to SliceApi's connection string only
#
# Every figure is also reported as a ratio to the floor measured in the same run, because absolute
# numbers on a shared 2-core machine drift from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TASKS=100000 USERS=1000 HEAVY=0 DURATION=10 WARMUP=3 ROUNDS=2 CONNECTIONS=32 THREADS=2 PIPELINE=1 TRACE= ONLY=
while [ $# -gt 0 ]; do
  case "$1" in
    --million) TASKS=1000000 USERS=10000 HEAVY=200000 ;;
    --tasks) TASKS=$2; shift ;;
    --users) USERS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --no-pipeline) PIPELINE=0 ;;
    --trace) TRACE=$2; shift ;;
    --only) ONLY=$2; shift ;;
    *) echo "unknown option $1 (see the header of $0)"; exit 2 ;;
  esac
  shift
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# The peer in the seeds' own framework (bench/peers/fastapi), from Debian's packages, run by Debian's python3.
PEER_PY=/usr/bin/python3
for package in python3-fastapi python3-uvicorn python3-asyncpg python3-jwt python3-uvloop python3-httptools; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is needed to aggregate results"; exit 1; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# --- PostgreSQL: a private cluster, durable settings (as in production), Unix socket only -------------
WORK=$(mktemp -d /tmp/sliceapi-bench-XXXXXX)
OUT=$ROOT/bench/.out
mkdir -p "$OUT" "$ROOT/bench/results"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres:postgres "$WORK"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
log "PostgreSQL cluster in $WORK"
as_pg "$PGBIN/initdb" -D "$WORK/data" -A trust -U postgres -E UTF8 --no-locale >/dev/null
cat >>"$WORK/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$WORK'
max_connections = 200
shared_buffers = 512MB
# Every statement each side sends is counted (bench/.out/statements/), so the database work per request can be compared.
shared_preload_libraries = 'pg_stat_statements, auto_explain'
pg_stat_statements.track = all
# The plan of about one statement in 500, logged with its query (bench/.out/plans.txt: one plan per statement).
auto_explain.log_min_duration = 0
auto_explain.sample_rate = 0.002
CONF
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w start >/dev/null
PSQL() { as_pg "$PGBIN/psql" -h "$WORK" -U postgres -d sliceapi_bench -v ON_ERROR_STOP=1 -qAt "$@"; }
CS="Host=$WORK;Username=postgres;Database=sliceapi_bench"

# --- builds ----------------------------------------------------------------------------------------
log "publishing SliceApi and the floor (Release)"
# ReadyToRun: precompiled code starts faster and JITs less, as a production image should be built.
dotnet publish "$ROOT/SliceApi.csproj" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$OUT/sliceapi" -v quiet -nologo >/dev/null
dotnet publish "$ROOT/bench/Floor/Floor.csproj" -c Release -o "$OUT/floor" -v quiet -nologo >/dev/null

SLICE_URL=http://127.0.0.1:5081
FLOOR_URL=http://127.0.0.1:5082
PEER_URL=http://127.0.0.1:5083
KEY=$(head -c 48 /dev/urandom | base64 -w0)
# Production settings, except: plain HTTP on loopback (as behind a TLS-terminating proxy), and rate limits raised
# far above the load so every request is served (the limiter still runs and costs what it costs).
slice_env=(ASPNETCORE_ENVIRONMENT=Production "Jwt__SigningKey=$KEY" "ConnectionStrings__Postgres=$CS${BENCH_SLICE_CS_EXTRA:-}" Logging__LogLevel__Default=Warning
           Http__RequireHttps=false RateLimiting__AuthenticatedPerMinute=1000000000 RateLimiting__AnonymousPerMinute=1000000000
           RateLimiting__CredentialsPerMinute=1000000000 ${BENCH_SLICE_ENV:-})

wait_ready() { # URL PID -> prints milliseconds waited
  local start=$1 url=$2 pid=$3
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready")" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || { echo "server $url died" >&2; exit 1; }
    sleep 0.005
  done
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}

start_slice() {
  local start; start=$(date +%s%N)
  env "${slice_env[@]}" dotnet "$OUT/sliceapi/SliceApi.dll" --urls "$SLICE_URL" >"$OUT/sliceapi.log" 2>&1 &
  SLICE_PID=$!; pids+=("$SLICE_PID")
  READY_MS=$(wait_ready "$start" "$SLICE_URL" "$SLICE_PID")
}

# --- schema, users, tasks --------------------------------------------------------------------------
log "first start: creates and migrates the database"
start_slice
PASSWORD="bench user passphrase"
curl -sf -o /dev/null -X POST "$SLICE_URL/api/v1/users" -H 'Content-Type: application/json' \
  -d "{\"email\":\"bench-user@example.com\",\"password\":\"$PASSWORD\",\"displayName\":\"Bench\"}"
kill "$SLICE_PID"; wait "$SLICE_PID" 2>/dev/null || true
env "${slice_env[@]}" dotnet "$OUT/sliceapi/SliceApi.dll" create-admin --email bench-admin@example.com --password "$PASSWORD" >/dev/null

log "seeding $USERS users and $TASKS tasks"
PSQL <<SQL
-- Users are Marten documents (mt_doc_user): the JSON the app writes, plus the duplicated email and created_at columns.
INSERT INTO mt_doc_user (id, data, mt_dotnet_type, email, created_at)
SELECT s.id,
       jsonb_build_object('id', s.id, 'email', s.email, 'displayName', 'User ' || s.n, 'role', 'user', 'isActive', true,
                          'createdAt', s.created_at,
                          'passwordHash', (SELECT data->>'passwordHash' FROM mt_doc_user WHERE email = 'bench-user@example.com')),
       'SliceApi.Features.Users.User', s.email, s.created_at
FROM (SELECT n, gen_random_uuid() AS id, 'user' || n || '@bench.test' AS email, now() AS created_at
      FROM generate_series(1, $USERS - 1) AS n) AS s;
-- Tasks are Marten documents (mt_doc_taskitem): the JSON the app writes (enum names as Marten stores them), plus the
-- duplicated columns and revision 1.
INSERT INTO mt_doc_taskitem (id, data, mt_version, mt_dotnet_type, owner_id, assignee_id, title, description, due_sort_key, created_at)
SELECT t.id,
       jsonb_build_object('id', t.id, 'ownerId', t.owner_id, 'assigneeId', NULL, 'title', t.title, 'description', t.description,
                          'status', t.status, 'dueAt', t.due_at, 'dueSortKey', COALESCE(t.due_at, 'infinity'),
                          'createdAt', t.created_at, 'updatedAt', t.created_at, 'version', 1),
       1, 'SliceApi.Features.Tasks.TaskItem', t.owner_id, NULL, t.title, t.description, COALESCE(t.due_at, 'infinity'), t.created_at
FROM (SELECT gen_random_uuid() AS id,
             CASE WHEN n <= $HEAVY THEN (SELECT id FROM mt_doc_user WHERE email = 'bench-user@example.com') ELSE u.ids[1 + n % array_length(u.ids, 1)] END AS owner_id,
             'Task ' || n AS title,
             CASE WHEN n % 3 = 0 THEN NULL ELSE 'Description of task ' || n END AS description,
             (ARRAY['Todo', 'InProgress', 'Done'])[1 + n % 3] AS status,
             CASE WHEN n % 2 = 0 THEN date_trunc('milliseconds', now()) + (n % 90) * interval '1 day' END AS due_at,
             date_trunc('milliseconds', now()) - n * interval '1 second' AS created_at
      FROM generate_series(1, $TASKS) AS n, (SELECT array_agg(id) AS ids FROM mt_doc_user WHERE data->>'role' = 'user') AS u) AS t;
-- Each task's history: its stream and its created event, numbered in creation order, as SliceApi's create writes them
-- (mt_streams, mt_events: the event's JSON holds the task as the API shows it, with Marten's metadata). The async daemon
-- is told it has processed them all (its high-water mark and the task_events subscription), so the feed reads them at once.
INSERT INTO mt_streams (id, type, version, timestamp, created)
SELECT id, 'task_item', 1, created_at, created_at FROM mt_doc_taskitem;
INSERT INTO mt_events (seq_id, id, stream_id, version, data, type, timestamp, mt_dotnet_type, correlation_id, headers, user_name)
SELECT row_number() OVER (ORDER BY created_at, id), gen_random_uuid(), id, 1,
       jsonb_build_object('task', jsonb_build_object('id', id, 'title', title, 'description', description, 'status', data->'status',
                                                     'dueAt', data->'dueAt', 'ownerId', owner_id, 'assigneeId', NULL,
                                                     'createdAt', data->'createdAt', 'updatedAt', data->'updatedAt'),
                          'changes', '[]'::jsonb, 'type', 'Created'),
       'task_created', created_at, 'SliceApi.Features.Tasks.TaskCreated, SliceApi', replace(gen_random_uuid()::text, '-', ''),
       '{"via": "AccessToken"}'::jsonb, owner_id::text
FROM mt_doc_taskitem;
SELECT setval('mt_events_sequence', (SELECT max(seq_id) FROM mt_events));
INSERT INTO mt_event_progression (name, last_seq_id) SELECT n, (SELECT max(seq_id) FROM mt_events) FROM unnest(ARRAY['HighWaterMark', 'task_events:All']) AS n
ON CONFLICT (name) DO UPDATE SET last_seq_id = excluded.last_seq_id;
VACUUM ANALYZE;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SQL
PSQL -c "SELECT id FROM mt_doc_taskitem ORDER BY random() LIMIT 10000" >"$OUT/ids.txt"
# The task-list cursor (Features/Tasks/TaskListCursor.cs): format 1, sort -createdAt (code 1), id, UTC ticks.
DEEP_CURSOR=$(PSQL -c "SELECT translate(rtrim(encode('\\x0101'::bytea || uuid_send(id) || int8send((extract(epoch FROM created_at) * 1000000)::bigint * 10 + 621355968000000000), 'base64'), '='), '+/', '-_')
                       FROM mt_doc_taskitem ORDER BY created_at DESC, id DESC OFFSET $((TASKS / 2)) LIMIT 1")
USER_ID=$(PSQL -c "SELECT id FROM mt_doc_user WHERE email = 'bench-user@example.com'")
FEED_AFTER=$((TASKS / 2)) # the feed's page: 100 changes from the middle of the history

# --- servers ---------------------------------------------------------------------------------------
log "starting SliceApi (timed to /health/ready) and the floor"
start_slice
# The floor prepares statements as SliceApi does by default (Database:MaxAutoPrepare, 64), so both do the same
# database work: without it Npgsql resets each pooled connection with DISCARD ALL, which drops the session's plans.
ConnectionStrings__Postgres="$CS;Max Auto Prepare=64" dotnet "$OUT/floor/Floor.dll" --urls "$FLOOR_URL" >"$OUT/floor.log" 2>&1 &
FLOOR_PID=$!; pids+=("$FLOOR_PID")
wait_ready "$(date +%s%N)" "$FLOOR_URL" "$FLOOR_PID" >/dev/null
# Two workers, as the seeds' own guide runs it on two cores.
(cd "$ROOT/bench/peers/fastapi" && PEER_POSTGRES_HOST="$WORK" PEER_POSTGRES_DB=sliceapi_bench PEER_POSTGRES_USER=postgres PEER_JWT_KEY="$KEY" \
  exec "$PEER_PY" -m uvicorn app:app --host 127.0.0.1 --port 5083 --workers 2 --loop uvloop --http httptools --no-access-log --log-level warning) \
  >"$OUT/peer.log" 2>&1 &
PEER_PID=$!; pids+=("$PEER_PID")
wait_ready "$(date +%s%N)" "$PEER_URL" "$PEER_PID" >/dev/null
login() { curl -sf -X POST "$SLICE_URL/api/v1/auth/login" -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" | sed -E 's/.*"accessToken":"([^"]+)".*/\1/'; }
ADMIN_TOKEN=$(login bench-admin@example.com)
USER_TOKEN=$(login bench-user@example.com)
log "SliceApi ready ${READY_MS} ms after start; deep cursor at offset $((TASKS / 2))"

# --- scenarios -------------------------------------------------------------------------------------
# name|method|path|ids file|body|token|owner|floor too|FastAPI peer too
BODY='{"title":"Benchmark task","description":"Created by wrk","dueAt":"2026-12-01T17:00:00Z","status":"in_progress"}'
scenarios=(
  "get_by_id|GET|/api/v1/tasks/{id}|$OUT/ids.txt||$ADMIN_TOKEN||1|1"
  "list_first_page|GET|/api/v1/tasks?limit=20|||$ADMIN_TOKEN||1|1"
  "list_deep_page|GET|/api/v1/tasks?limit=20&cursor=$DEEP_CURSOR|||$ADMIN_TOKEN||1|0"
  "list_user_page|GET|/api/v1/tasks?limit=20|||$USER_TOKEN|$USER_ID|1|0"
  "create|POST|/api/v1/tasks||$BODY|$USER_TOKEN|$USER_ID|1|1"
  "changes_page|GET|/api/v1/changes?after=$FEED_AFTER&limit=100|||$ADMIN_TOKEN||1|0"
  "login|POST|/api/v1/auth/login||{\"email\":\"bench-user@example.com\",\"password\":\"$PASSWORD\"}|||0|0"
)

run_wrk() { # SIDE URL SECONDS OUTFILE
  local url=$2 seconds=$3 out=$4
  BENCH_METHOD=$method BENCH_PATH=$path BENCH_IDS=$ids BENCH_BODY=$body BENCH_TOKEN=$token BENCH_OWNER=$owner BENCH_OUT=$out \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 10s -s "$ROOT/bench/scripts/scenario.lua" "$url" >/dev/null
}

RESULTS=$OUT/runs; rm -rf "$RESULTS" "$OUT/pipeline" "$OUT/statements"; mkdir -p "$RESULTS" "$OUT/statements"
CLK_TCK=$(getconf CLK_TCK)
# User + system time of a server, in clock ticks: its process and its worker processes (the peer's uvicorn workers).
cpu_ticks() { cat "/proc/$1/stat" $(pgrep -P "$1" | sed 's|.*|/proc/&/stat|') | awk '{t += $14 + $15} END {print t}'; }
for scenario in "${scenarios[@]}"; do
  IFS='|' read -r name method path ids body token owner floor_too peer_too <<<"$scenario"
  [ -n "$ONLY" ] && [ "$name" != "$ONLY" ] && continue
  log "scenario $name: warm-up ${WARMUP}s per side, then $ROUNDS round(s) of ${DURATION}s per side"
  sides=(); [ "$floor_too" = 1 ] && sides+=(floor); [ "$peer_too" = 1 ] && sides+=(peer); sides+=(sliceapi)
  url_of() { case "$1" in floor) echo "$FLOOR_URL" ;; peer) echo "$PEER_URL" ;; *) echo "$SLICE_URL" ;; esac; }
  for side in "${sides[@]}"; do
    run_wrk "$side" "$(url_of "$side")" "$WARMUP" "$RESULTS/warmup.json"
  done
  for round in $(seq 1 "$ROUNDS"); do
    order=("${sides[@]}"); [ $((round % 2)) = 0 ] && order=($(printf '%s\n' "${sides[@]}" | tac)) # alternate who goes first
    for side in "${order[@]}"; do
      url=$(url_of "$side")
      tracer=
      if [ "$name" = "$TRACE" ] && [ "$side" = sliceapi ] && [ "$round" = 1 ]; then
        PATH="$PATH:$HOME/.dotnet/tools" dotnet-trace collect -p "$SLICE_PID" --profile dotnet-sampled-thread-time \
          --duration "00:00:00:$(printf %02d "$DURATION")" -o "$OUT/$name.nettrace" >"$OUT/trace.log" 2>&1 &
        tracer=$!
      fi
      pid=$SLICE_PID; [ "$side" = floor ] && pid=$FLOOR_PID; [ "$side" = peer ] && pid=$PEER_PID
      cpu_before=$(cpu_ticks "$pid")
      PSQL -c "SELECT pg_stat_statements_reset()" >/dev/null
      run_wrk "$side" "$url" "$DURATION" "$RESULTS/$name.$side.$round.json"
      echo "$(( $(cpu_ticks "$pid") - cpu_before ))" >"$RESULTS/$name.$side.$round.cpu"
      if [ "$round" = 1 ]; then # the statements of this run, per request answered
        requests=$(python3 -c "import json,sys; print(max(1, json.load(open(sys.argv[1]))['requests']))" "$RESULTS/$name.$side.$round.json")
        PSQL -F ' | ' -c "SELECT round(calls::numeric / $requests, 3) AS per_request, round(mean_exec_time::numeric * 1000) AS mean_us,
                                 left(regexp_replace(query, '\s+', ' ', 'g'), 160)
                          FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 25" \
          >"$OUT/statements/$name.$side.txt"
      fi
      if [ -n "$tracer" ]; then
        wait "$tracer" || true
        PATH="$PATH:$HOME/.dotnet/tools" dotnet-trace convert --format Speedscope -o "$OUT/$name" "$OUT/$name.nettrace" >/dev/null
        python3 "$ROOT/bench/scripts/hotspots.py" "$OUT/$name.speedscope.json" >"$OUT/$name.hotspots.txt"
        log "profile summary: $OUT/$name.hotspots.txt"
      fi
    done
  done
done
PEAK_RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SLICE_PID/status")
# The sampled plans, one per statement (the first logged), to check that every route's statements use their index.
python3 - "$WORK/postgres.log" >"$OUT/plans.txt" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
seen = set()
for block in re.split(r"\n(?=\S.*LOG:  duration: )", text):
    m = re.search(r"Query Text: (.*?)\n(\s+\S.*)", block, re.S)
    if not m:
        continue
    query = " ".join(m.group(1).split())
    key = re.sub(r"\$\d+|'[^']*'|\d+", "?", query)[:200]
    if key in seen:
        continue
    seen.add(key)
    print(query[:300]); print(m.group(2).rstrip()); print()
PY
# Where SliceApi's resident memory is, by mapping (file-backed images, the GC heap, other anonymous memory), after the load.
python3 "$ROOT/bench/scripts/memory.py" "$SLICE_PID" >"$OUT/sliceapi.memory.txt" 2>&1 || true

# --- in-process pipeline benchmark (BenchmarkDotNet) ---------------------------------------------
if [ "$PIPELINE" = 1 ]; then
  log "in-process pipeline benchmark (BenchmarkDotNet)"
  # Pinned to one core (the servers above are stopped first, so nothing else of ours runs), three processes per benchmark
  # (BenchmarkDotNet's launches) of 8 warm-up and 25 measured iterations of 250 ms each, the baseline and SliceApi's
  # pipeline in one run: a ratio from one launch on this shared machine moved from 1.17 to 3.84 between two runs one evening.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  (cd "$ROOT/bench/Pipeline" && SLICEAPI_BENCH_POSTGRES="$CS" dotnet run -c Release -- --filter '*PipelineBenchmarks*' '*DataSessionBenchmarks*' '*SerializationBenchmarks*' \
     --exporters json --affinity 2 --launchCount 3 --warmupCount 8 --iterationCount 25 --iterationTime 250 --artifacts "$OUT/pipeline" \
     >"$OUT/pipeline.log" 2>&1) || { tail -30 "$OUT/pipeline.log"; exit 1; }
fi

# --- report ----------------------------------------------------------------------------------------
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 "$ROOT/bench/scripts/report.py" --runs "$RESULTS" --clk-tck "$CLK_TCK" --pipeline "$OUT/pipeline" --tasks "$TASKS" --users "$USERS" \
  --duration "$DURATION" --rounds "$ROUNDS" --connections "$CONNECTIONS" --threads "$THREADS" \
  --ready-ms "$READY_MS" --peak-rss-kb "$PEAK_RSS_KB" --json "$ROOT/bench/results/$STAMP.json"
log "JSON written to bench/results/$STAMP.json"
