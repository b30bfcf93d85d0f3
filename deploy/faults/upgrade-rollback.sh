#!/usr/bin/env bash
# Release drill: a deployment of the previous release (default HEAD~1) is upgraded to a newer one (default HEAD) and
# rolled back, instance by instance behind nginx, under steady mixed load (deploy/faults/mixed.lua), while a writer
# creates tasks one at a time and logs every acknowledged id. Then, on the rolled-back release and the newer schema,
# the README's scenario (.ci/walkthrough.sh) is walked through nginx.
#
#   deploy/faults/upgrade-rollback.sh [--from REF] [--to REF]
#
# Checks: no failed request (wrk, the writer), every acknowledged create is in the database, each step ran the release
# it should, and the walkthrough passes on the previous release against the newer schema. Starts its own deployment
# (on ports of its own) and stops it at the end. Ends with "upgrade-rollback: ... N failed checks"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
FROM=HEAD~1
TO=HEAD
while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM=$2; shift 2 ;;
    --to) TO=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
from=$(git rev-parse --short=12 "$FROM^{commit}") && to=$(git rev-parse --short=12 "$TO^{commit}") || exit 2
# The walkthrough's webhook receiver listens on loopback, and its first answer to each message is a 500 retried after 1 s.
DRILL_INSTANCE_ENV="Shutdown__DrainSeconds=3 Webhooks__AllowPrivateNetworks=true Webhooks__RetryDelaysSeconds__0=1"
export SLICEAPI_RELEASE=$from
. deploy/faults/common.sh
check "the deployment runs the previous release" "$from" "$(deploy/cluster.sh release)"
deploy/cluster.sh build "$to" >/dev/null || exit 1 # published before the load starts, so the load spans the rollout only
TOKEN=$(new_user release)
export TOKEN

SECONDS_TOTAL=80
wrk -t2 -c12 -d"${SECONDS_TOTAL}s" --timeout 10s -s deploy/faults/mixed.lua "$BASE" >"$RUN/logs/wrk.txt" 2>&1 &
load=$!
start_writer "$SECONDS_TOTAL" "Release drill"

sleep 5
t0=$(date +%s)
deploy/cluster.sh upgrade "$to" || check "upgrade to $to" 0 1
t1=$(date +%s)
check "after the upgrade the instances run" "$to" "$(deploy/cluster.sh release)"
deploy/cluster.sh rollback || check "rollback to $from" 0 1
t2=$(date +%s)
check "after the rollback the instances run" "$from" "$(deploy/cluster.sh release)"
echo "upgrade took $((t1 - t0)) s, rollback $((t2 - t1)) s; the load ran $SECONDS_TOTAL s from 5 s before the upgrade"
check "the rollout finished while the load still ran" yes "$([ $((t2 - t0 + 5)) -lt "$SECONDS_TOTAL" ] && echo yes || echo "no ($((t2 - t0 + 5)) s)")"
wait "$load" "$writer"

cat "$RUN/logs/wrk.txt"
requests=$(awk '/requests in/ {print $1}' "$RUN/logs/wrk.txt")
check "failed requests under load (wrk: non-2xx and socket errors)" 0 "$(wrk_failures "$RUN/logs/wrk.txt")"
awk '{print $2}' "$RUN/logs/writes.txt" | sort | uniq -c | sed 's/^/writer status count: /'
check "the writer's failed creates" 0 "$(awk '$2 != 201' "$RUN/logs/writes.txt" | wc -l)"
check_acknowledged_stored

# The previous release on the newer release's schema walks the whole scenario: its own (the walkthrough at its commit),
# since the newer one also walks what the newer release added.
OUT=$RUN/logs
git show "$from:.ci/walkthrough.sh" >"$RUN/logs/walkthrough-$from.sh"
# shellcheck source=/dev/null
. "$RUN/logs/walkthrough-$from.sh"
create_admin() { deploy/cluster.sh app create-admin --email "$1" --password "$2"; }
BASE=$BASE WALK_LABEL="release $from on the schema of $to: " CURL_CA="$CA" walkthrough
echo "upgrade-rollback: $from -> $to -> $from, $requests requests under load, $count acknowledged creates, $failed failed checks"
[ "$failed" -eq 0 ]
