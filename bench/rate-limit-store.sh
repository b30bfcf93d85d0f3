#!/usr/bin/env bash
# The per-request cost of the shared rate-limit store: one published SliceApi instance counting in Redis
# (RateLimiting:Store=Redis, as deploy/ runs it) against one counting in memory, same build, same PostgreSQL, same
# machine, driven in alternation by wrk with GET /api/v1/users/me (an authenticated request: JWT validation, the
# account-status cache, one rate-limit check, no database read once the status is cached).
#
#   bench/rate-limit-store.sh [--duration S] [--rounds N]      (defaults: 10 s, 3 rounds per side)
#
# Prints requests/s, p50 and p99 latency and CPU time per request of the API process and of redis-server, and the
# Redis side's ratios to the memory side. The limits are raised above the load, so every request is counted and none
# is refused. Uses deploy/cluster.sh (PostgreSQL + Redis, one instance; nginx is not in the path).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=10
ROUNDS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }

export SLICEAPI_DEPLOY_DIR=${SLICEAPI_DEPLOY_DIR:-$(mktemp -d /tmp/sliceapi-rlbench-XXXXXX)}
chmod 755 "$SLICEAPI_DEPLOY_DIR"
export NGINX_PORT=18443 FIRST_PORT=15101 MANAGEMENT_FIRST_PORT=15301 PG_PORT=15432 REDIS_PORT=16379
REDIS_SIDE=http://127.0.0.1:15201
MEMORY_SIDE=http://127.0.0.1:15202
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  deploy/cluster.sh stop 2>/dev/null || true
}
trap cleanup EXIT

deploy/cluster.sh start 1 >/dev/null
settings=$(deploy/cluster.sh env | tr '\n' ' ')
start_side() { # start_side URL STORE (its pid is appended to pids)
  # shellcheck disable=SC2086
  env $settings RateLimiting__Store="$2" RateLimiting__AuthenticatedPerMinute=1000000000 RateLimiting__CredentialsPerMinute=1000000 \
    Logging__LogLevel__Default=Warning ASPNETCORE_URLS="$1" dotnet "$SLICEAPI_DEPLOY_DIR/app/SliceApi.dll" \
    >"$SLICEAPI_DEPLOY_DIR/logs/bench-$2.log" 2>&1 &
  pids+=($!)
}
start_side "$REDIS_SIDE" Redis
start_side "$MEMORY_SIDE" Memory
redis_api=${pids[0]}
memory_api=${pids[1]}
H='X-Forwarded-Proto: https'
for side in "$REDIS_SIDE" "$MEMORY_SIDE"; do
  for _ in $(seq 1 120); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$H" "$side/health/ready")" = 200 ] && break; sleep 0.5; done
done
EMAIL="bench-$RANDOM$RANDOM@example.com"
curl -s -o /dev/null -H "$H" -H 'Content-Type: application/json' "$REDIS_SIDE/api/v1/users" \
  -d "{\"email\":\"$EMAIL\",\"password\":\"a benchmark passphrase\",\"displayName\":\"Bench\"}"
TOKEN=$(curl -s -H "$H" -H 'Content-Type: application/json' "$REDIS_SIDE/api/v1/auth/login" \
  -d "{\"email\":\"$EMAIL\",\"password\":\"a benchmark passphrase\"}" | sed -nE 's/.*"accessToken":"([^"]*)".*/\1/p')
[ -n "$TOKEN" ] || { echo "could not log in" >&2; exit 1; }
redis_server=$(cat "$SLICEAPI_DEPLOY_DIR/redis.pid")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A requests seconds p50 p99 api_ticks redis_ticks
run() { # run SIDE URL PID SECONDS
  local out a0 r0
  a0=$(cpu_ticks "$3"); r0=$(cpu_ticks "$redis_server")
  out=$(wrk -t2 -c32 -d"${4}s" --latency -H "$H" -H "Authorization: Bearer $TOKEN" "$2/api/v1/users/me")
  [ "$4" = 3 ] && return
  api_ticks[$1]=$(( ${api_ticks[$1]:-0} + $(cpu_ticks "$3") - a0 ))
  redis_ticks[$1]=$(( ${redis_ticks[$1]:-0} + $(cpu_ticks "$redis_server") - r0 ))
  requests[$1]=$(( ${requests[$1]:-0} + $(awk '/requests in/ {print $1}' <<<"$out") ))
  seconds[$1]=$(( ${seconds[$1]:-0} + $4 ))
  p50[$1]="${p50[$1]:-} $(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99[$1]="${p99[$1]:-} $(awk '$1 == "99%" {print $2}' <<<"$out")"
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx responses on $1:" >&2; grep "Non-2xx" <<<"$out" >&2; fi
}
run redis "$REDIS_SIDE" "$redis_api" 3; run memory "$MEMORY_SIDE" "$memory_api" 3   # warm-up
for _ in $(seq 1 "$ROUNDS"); do
  run redis "$REDIS_SIDE" "$redis_api" "$DURATION"
  run memory "$MEMORY_SIDE" "$memory_api" "$DURATION"
done

hz=$(getconf CLK_TCK)
to_ms() { sed -E 's/([0-9.]+)us/\1 0.001/; s/([0-9.]+)ms/\1 1/; s/([0-9.]+)s$/\1 1000/' <<<"$1" | awk '{printf "%.2f", $1 * $2}'; }
median() { tr ' ' '\n' <<<"$1" | grep . | while read -r v; do to_ms "$v"; echo; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
echo "GET /api/v1/users/me, wrk -t2 -c32, $ROUNDS x ${DURATION}s per side, alternating, after a 3 s warm-up; $(date -u +%FT%TZ)"
printf '| store | req/s | p50 ms | p99 ms | API CPU us/req | redis-server CPU us/req |\n|---|---:|---:|---:|---:|---:|\n'
for side in memory redis; do
  rps=$(( requests[$side] / seconds[$side] ))
  printf '| %s | %s | %s | %s | %s | %s |\n' "$side" "$rps" "$(median "${p50[$side]}")" "$(median "${p99[$side]}")" \
    "$(awk -v t="${api_ticks[$side]}" -v n="${requests[$side]}" -v hz="$hz" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}')" \
    "$(awk -v t="${redis_ticks[$side]}" -v n="${requests[$side]}" -v hz="$hz" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')"
done
awk -v r="${requests[redis]}" -v m="${requests[memory]}" -v ar="${api_ticks[redis]}" -v am="${api_ticks[memory]}" \
  'BEGIN {printf "redis / memory: throughput %.2f x, API CPU per request %.2f x\n", r / m, (ar / r) / (am / m)}'
