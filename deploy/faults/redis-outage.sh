#!/usr/bin/env bash
# Fault drill: the shared rate-limit store (Redis) killed for 10 s under steady mixed load through nginx, with the
# default RateLimiting:FailMode=Open. Checks: no request fails; while Redis is away responses carry no RateLimit header
# (nothing is counted); each instance logs the outage once and its end once; afterwards the counts are shared again.
# Prints its figures and ends with "redis-outage: ... N failed checks"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
. deploy/faults/common.sh
TOKEN=$(new_user redis)
export TOKEN
# A second user for the checks, whose window nothing else counts against.
PROBE=$(new_user probe)
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
wrk_failed=$(wrk_failures "$RUN/logs/wrk-redis.txt")
requests=$(awk '/requests in/ {print $1}' "$RUN/logs/wrk-redis.txt")
check "failed requests (wrk: non-2xx and socket errors)" 0 "$wrk_failed"
check "outage warnings, both instances together" 2 "$(cat "$RUN"/logs/instance-*.log | grep -c 'The rate-limit store is unreachable')"
check "'answers again' lines, both instances together" 2 "$(cat "$RUN"/logs/instance-*.log | grep -c 'The rate-limit store answers again')"
check "stack-trace lines in the instance logs" 0 "$(cat "$RUN"/logs/instance-*.log | grep -c '^ *at ' || true)"
echo "redis-outage: $requests requests, $failed failed checks"
[ "$failed" -eq 0 ]
