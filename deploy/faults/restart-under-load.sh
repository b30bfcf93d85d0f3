#!/usr/bin/env bash
# Fault drill: one of two instances behind nginx is restarted gracefully (SIGTERM, start again) while wrk keeps a
# steady mixed load on nginx (deploy/faults/mixed.lua: reads, keyed and unkeyed creates). Target: no failed request.
#
#   deploy/faults/restart-under-load.sh [--seconds S]     (default 20; the restart begins after a quarter of them)
#
# Starts its own deployment (deploy/cluster.sh, on ports of its own) and stops it at the end. Prints wrk's counts and
# a line "restart-under-load: N requests, N failed"; exits 1 when any failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TOTAL=20
[ "${1:-}" = --seconds ] && SECONDS_TOTAL=$2
DRILL_INSTANCE_ENV="Shutdown__DrainSeconds=3"
. deploy/faults/common.sh
TOKEN=$(new_user drill)
export TOKEN

# wrk does not check the certificate; the target is nginx on loopback.
wrk -t2 -c16 -d"${SECONDS_TOTAL}s" --timeout 10s -s deploy/faults/mixed.lua "$BASE" >"$SLICEAPI_DEPLOY_DIR/logs/wrk.txt" 2>&1 &
load=$!
sleep $((SECONDS_TOTAL / 4))
deploy/cluster.sh restart 1
wait "$load"

cat "$SLICEAPI_DEPLOY_DIR/logs/wrk.txt"
requests=$(awk '/requests in/ {print $1}' "$SLICEAPI_DEPLOY_DIR/logs/wrk.txt")
wrk_failed=$(wrk_failures "$SLICEAPI_DEPLOY_DIR/logs/wrk.txt")
failed=$wrk_failed
retried=$(grep -c 'upstream=[^ ]*, ' "$SLICEAPI_DEPLOY_DIR/nginx-access.log" || true)
echo "nginx sent $retried request(s) to the second instance after the first failed"
grep -oE '" [0-9]{3} ' "$SLICEAPI_DEPLOY_DIR/nginx-access.log" | sort | uniq -c | sed 's/^/status count: /'
echo "restart-under-load: $requests requests, $failed failed"
[ "$failed" -eq 0 ]
