#!/usr/bin/env bash
# Fault drill: PostgreSQL stopped for 10 s under load, behind nginx with two instances.
#   - wrk keeps reading (GET /api/v1/users/me) and a writer creates tasks one by one, logging every acknowledged id;
#   - PostgreSQL is stopped after 5 s and started again 10 s later; the run goes on 10 s more.
# Checks: no 5xx but 503 (nginx log); a 503 during the outage carries Retry-After, and /health/ready is 503;
# the writer gets a 2xx within 5 s of PostgreSQL answering again; every acknowledged id is in the database;
# each instance logs the outage in a few lines (a warning when it starts, a line when it ends), without stack traces.
# Prints its figures and ends with "postgres-outage: ... N failed checks"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
. deploy/faults/common.sh
TOKEN=$(new_user outage)
A="Authorization: Bearer $TOKEN"

wrk -t1 -c8 -d25s --timeout 10s -H "$A" "$BASE/api/v1/users/me" >"$RUN/logs/wrk-outage.txt" 2>&1 &
reader=$!
start_writer 25 "Outage drill"

sleep 5
deploy/cluster.sh pg-stop
stopped_at=$(date +%s%3N)
sleep 2
during=$(curl -s --cacert "$CA" -D - -o /dev/null -H "$A" "$BASE/api/v1/users/me")
check "a request during the outage is a 503" 503 "$(awk 'NR == 1 {print $2}' <<<"$during")"
check "its Retry-After" 2 "$(sed -nE 's/^[Rr]etry-[Aa]fter: *([0-9]+).*/\1/p' <<<"$during")"
check "/health/ready during the outage" 503 "$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$BASE/health/ready")"
sleep 8
deploy/cluster.sh pg-start
started_at=$(date +%s%3N)
wait "$reader" "$writer"

first_ok=$(awk -v t="$started_at" '$1 >= t && $2 ~ /^2/ {print $1; exit}' "$RUN/logs/writes.txt")
back_ms=$(( ${first_ok:-999999999999999} - started_at ))
echo "PostgreSQL down for $(( (started_at - stopped_at) / 1000 )) s; the writer's first 2xx came $back_ms ms after it was started again"
check "2xx within 5 s of PostgreSQL coming back" yes "$([ "$back_ms" -le 5000 ] && echo yes || echo "no ($back_ms ms)")"
awk '{print $2}' "$RUN/logs/writes.txt" | sort | uniq -c | sed 's/^/writer status count: /'
grep -oE '" [0-9]{3} ' "$RUN/nginx-access.log" | sort | uniq -c | sed 's/^/nginx status count: /'
check "5xx other than 503 (nginx-access.log)" 0 "$(grep -oE '" 5[0-9]{2} ' "$RUN/nginx-access.log" | grep -vc '" 503 ')"
check_acknowledged_stored
# Every warning or error entry either instance wrote (their logs hold only start-up lines besides the drill's).
entries=$(cat "$RUN"/logs/instance-*.log | grep -cE '^(warn|fail|crit): ' || true)
traces=$(cat "$RUN"/logs/instance-*.log | grep -c '^ *at ' || true)
echo "warnings and errors the instances logged:"
cat "$RUN"/logs/instance-*.log | grep -A1 -E '^(warn|fail|crit): |DatabaseOutage|RevocationListener' | grep -v '^--$' | sed 's/^/  /'
check "stack-trace lines in the instance logs" 0 "$traces"
check "warning and error entries, both instances together (at most 6)" yes "$([ "$entries" -le 6 ] && echo yes || echo "no ($entries)")"
echo "postgres-outage: $count writes acknowledged, $failed failed checks"
[ "$failed" -eq 0 ]
