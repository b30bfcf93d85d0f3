#!/usr/bin/env bash
# Fault drill: one of two instances behind nginx is restarted gracefully (SIGTERM, start again) while wrk keeps a
# steady mixed load on nginx (deploy/faults/mixed.lua: reads, keyed and unkeyed creates). Target: no failed request.
#
#   deploy/faults/restart-under-load.sh [--seconds S] [--restarts N]
#       (defaults: 20 s, 1 restart; the restarts alternate between the instances, the first after a quarter of the run,
#       the others evenly spread over the next half)
#
# Starts its own deployment (deploy/cluster.sh, on ports of its own) and stops it at the end. Prints wrk's counts and
# a line "restart-under-load: N requests, N failed"; exits 1 when any failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TOTAL=20
RESTARTS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_TOTAL=$2; shift 2 ;;
    --restarts) RESTARTS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
DRILL_INSTANCE_ENV="Shutdown__DrainSeconds=3"
. deploy/faults/common.sh
TOKEN=$(new_user drill)
export TOKEN

# wrk does not check the certificate; the target is nginx on loopback.
wrk -t2 -c16 -d"${SECONDS_TOTAL}s" --timeout 10s -s deploy/faults/mixed.lua "$BASE" >"$SLICEAPI_DEPLOY_DIR/logs/wrk.txt" 2>&1 &
load=$!
started=$(date +%s)
for r in $(seq 1 "$RESTARTS"); do
  # Restart r begins at a quarter of the run plus (r - 1) / RESTARTS of its next half.
  at=$(( started + SECONDS_TOTAL / 4 + (r - 1) * SECONDS_TOTAL / 2 / RESTARTS ))
  now=$(date +%s); [ "$at" -le "$now" ] || sleep $((at - now))
  deploy/cluster.sh restart $(( (r - 1) % 2 + 1 ))
done
wait "$load"

cat "$SLICEAPI_DEPLOY_DIR/logs/wrk.txt"
requests=$(awk '/requests in/ {print $1}' "$SLICEAPI_DEPLOY_DIR/logs/wrk.txt")
wrk_failed=$(wrk_failures "$SLICEAPI_DEPLOY_DIR/logs/wrk.txt")
failed=$wrk_failed
retried=$(grep -c 'upstream=[^ ]*, ' "$SLICEAPI_DEPLOY_DIR/nginx-access.log" || true)
echo "nginx sent $retried request(s) to the second instance after the first failed"
grep -oE '" [0-9]{3} ' "$SLICEAPI_DEPLOY_DIR/nginx-access.log" | sort | uniq -c | sed 's/^/status count: /'
echo "restart-under-load: $RESTARTS restart(s), $requests requests, $failed failed"
[ "$failed" -eq 0 ]
