#!/usr/bin/env bash
# Fault drill: one of two instances behind nginx is killed with SIGKILL under load, and started again 5 s later.
# The load (deploy/faults/safe.lua) is what nginx may repeat on the other instance: GETs and POSTs with an
# Idempotency-Key. Checks: no request fails; no key created more than one task; every acknowledged create is stored.
# Prints its figures and ends with "kill-under-load: ... N failed checks"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
. deploy/faults/common.sh
TOKEN=$(new_user kill)
export TOKEN RUN_TAG="$RANDOM$RANDOM"

wrk -t2 -c16 -d20s --timeout 10s -s deploy/faults/safe.lua "$BASE" >"$RUN/logs/wrk-kill.txt" 2>&1 &
load=$!
sleep 5
deploy/cluster.sh kill 1
sleep 5
deploy/cluster.sh restart 1
wait "$load"

cat "$RUN/logs/wrk-kill.txt"
wrk_failed=$(wrk_failures "$RUN/logs/wrk-kill.txt")
requests=$(awk '/requests in/ {print $1}' "$RUN/logs/wrk-kill.txt")
created=$(grep -c '"POST /api/v1/tasks HTTP/[0-9.]*" 201 ' "$RUN/nginx-access.log")
retried=$(grep -c 'upstream=[^ ]*, ' "$RUN/nginx-access.log" || true)
echo "nginx sent $retried request(s) to the second instance after the first failed"
grep -oE '" [0-9]{3} ' "$RUN/nginx-access.log" | sort | uniq -c | sed 's/^/nginx status count: /'
check "failed requests (wrk: non-2xx and socket errors)" 0 "$wrk_failed"
check "keys that created more than one task" 0 \
  "$(deploy/cluster.sh psql -qAt -c "SELECT count(*) FROM (SELECT title FROM mt_doc_taskitem WHERE title LIKE 'kill-$RUN_TAG-%' GROUP BY title HAVING count(*) > 1) d")"
# Stored: every acknowledged create, plus at most the creates wrk abandoned when it stopped (nginx logs those as 499;
# the instance may still have completed them).
stored=$(deploy/cluster.sh psql -qAt -c "SELECT count(DISTINCT title) FROM mt_doc_taskitem WHERE title LIKE 'kill-$RUN_TAG-%'")
abandoned=$(grep -c '"POST /api/v1/tasks HTTP/[0-9.]*" 499 ' "$RUN/nginx-access.log" || true)
echo "tasks stored: $stored for $created acknowledged creates and $abandoned abandoned by wrk at its end"
check "every acknowledged create stored, nothing else but abandoned ones" yes \
  "$([ "$stored" -ge "$created" ] && [ "$stored" -le $((created + abandoned)) ] && echo yes || echo no)"
echo "kill-under-load: $requests requests, $created creates, $failed failed checks"
[ "$failed" -eq 0 ]
