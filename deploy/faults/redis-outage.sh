#!/usr/bin/env bash
# Fault drill: the shared rate-limit store (Redis) killed for 10 s under steady mixed load through nginx, with the
# default RateLimiting:FailMode=Open. Checks: no request fails; while Redis is away responses carry no RateLimit header
# (nothing is counted); each instance logs the outage once and its end once; afterwards the counts are shared again.
# Prints its figures and ends with "redis-outage: ... N failed checks"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
export SLICEAPI_DEPLOY_DIR=${SLICEAPI_DEPLOY_DIR:-$(mktemp -d /tmp/sliceapi-drill-XXXXXX)}
chmod 755 "$SLICEAPI_DEPLOY_DIR"
export NGINX_PORT=28443 FIRST_PORT=25101 PG_PORT=25432 REDIS_PORT=26379
export SLICEAPI_INSTANCE_ENV="RateLimiting__AuthenticatedPerMinute=100000000 RateLimiting__CredentialsPerMinute=1000"
trap 'deploy/cluster.sh stop 2>/dev/null || true' EXIT
RUN=$SLICEAPI_DEPLOY_DIR
failed=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1 ($3)"; else failed=$((failed + 1)); echo "FAIL $1: expected $2, got $3"; fi; }

BASE=$(deploy/cluster.sh start 2) || exit 1
CA="$RUN/tls/cert.pem"
J='Content-Type: application/json'
EMAIL="redis-$RANDOM$RANDOM@example.com"
curl -s --cacert "$CA" -o /dev/null -H "$J" "$BASE/api/v1/users" -d "{\"email\":\"$EMAIL\",\"password\":\"a drill passphrase!\",\"displayName\":\"Drill\"}"
TOKEN=$(curl -s --cacert "$CA" -H "$J" "$BASE/api/v1/auth/login" -d "{\"email\":\"$EMAIL\",\"password\":\"a drill passphrase!\"}" \
  | sed -nE 's/.*"accessToken":"([^"]*)".*/\1/p')
[ -n "$TOKEN" ] || { echo "could not log in" >&2; exit 1; }
export TOKEN
# A second user for the checks, whose window nothing else counts against.
PROBE_EMAIL="probe-$RANDOM$RANDOM@example.com"
curl -s --cacert "$CA" -o /dev/null -H "$J" "$BASE/api/v1/users" -d "{\"email\":\"$PROBE_EMAIL\",\"password\":\"a drill passphrase!\",\"displayName\":\"Probe\"}"
PROBE=$(curl -s --cacert "$CA" -H "$J" "$BASE/api/v1/auth/login" -d "{\"email\":\"$PROBE_EMAIL\",\"password\":\"a drill passphrase!\"}" \
  | sed -nE 's/.*"accessToken":"([^"]*)".*/\1/p')
remaining() { curl -s --cacert "$CA" -D - -o /dev/null -H "Authorization: Bearer $PROBE" "$BASE/api/v1/users/me" | sed -nE 's/^[Rr]ate[Ll]imit: *"default";r=([0-9]+);.*/\1/p'; }

wrk -t2 -c16 -d25s --timeout 10s -s deploy/faults/mixed.lua "$BASE" >"$RUN/logs/wrk-redis.txt" 2>&1 &
load=$!
sleep 5
deploy/cluster.sh redis-stop
sleep 2
check "a response while Redis is away carries no RateLimit header" "" "$(remaining)"
sleep 8
deploy/cluster.sh redis-start
sleep 5 # StackExchange.Redis reconnects in the background
r1=$(remaining); r2=$(remaining)
check "after Redis is back, one count across both instances (r=$r1, then r=$r2)" "$(( ${r1:-0} - 1 ))" "${r2:-none}"
wait "$load"

cat "$RUN/logs/wrk-redis.txt"
non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$RUN/logs/wrk-redis.txt"); non2xx=${non2xx:-0}
socket=$(sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1 \2 \3 \4/p' "$RUN/logs/wrk-redis.txt" \
  | awk '{print $1 + $2 + $3 + $4}'); socket=${socket:-0}
requests=$(awk '/requests in/ {print $1}' "$RUN/logs/wrk-redis.txt")
check "failed requests (wrk: non-2xx and socket errors)" 0 "$((non2xx + socket))"
check "outage warnings, both instances together" 2 "$(cat "$RUN"/logs/instance-*.log | grep -c 'The rate-limit store is unreachable')"
check "'answers again' lines, both instances together" 2 "$(cat "$RUN"/logs/instance-*.log | grep -c 'The rate-limit store answers again')"
check "stack-trace lines in the instance logs" 0 "$(cat "$RUN"/logs/instance-*.log | grep -c '^ *at ' || true)"
echo "redis-outage: $requests requests, $failed failed checks"
[ "$failed" -eq 0 ]
