#!/usr/bin/env bash
# Backup drill: point-in-time recovery with pgBackRest. A deployment of two instances archives its WAL continuously; a
# base backup is taken; a user writes tasks (after the backup, so they come back from the archived WAL alone); the time
# is noted; more tasks are written; then every task is deleted by mistake (a DELETE in psql). The database is restored
# to the noted time on a fresh data directory (deploy/cluster.sh restore --to) and SliceApi started on it. Checks: every
# task written before the noted time is there (read through the API), none written after it is, and the API takes
# writes again. Prints the recovery time (restore to serving) and ends with "backup-restore: ... N failed checks".
set -uo pipefail
cd "$(dirname "$0")/../.."
. deploy/faults/common.sh
TOKEN=$(new_user backup)

create() { # create TITLE: prints the new task's id (empty unless 201)
  curl -s --cacert "$CA" -m 10 -H "Authorization: Bearer $TOKEN" -H "$J" "$BASE/api/v1/tasks" -d "{\"title\":\"$1\"}" \
    | sed -nE 's/^\{"id":"([^"]*)".*/\1/p'
}
status_of() { curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -m 10 -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tasks/$1"; }

deploy/cluster.sh backup
before=() after=()
for i in $(seq 1 25); do before+=("$(create "before-$i")"); done
check "tasks written before the noted time (acknowledged)" 25 "$(printf '%s\n' "${before[@]}" | grep -c .)"
sleep 1
noted=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 1
for i in $(seq 1 10); do after+=("$(create "after-$i")"); done
check "tasks written after it (acknowledged)" 10 "$(printf '%s\n' "${after[@]}" | grep -c .)"
# The recovery point if the server and its disk were lost now: how long until the WAL holding the last write is in the
# archive (a segment is switched and archived at least every archive_timeout, 10 s).
last_write=$(date +%s%3N) archived_after=
for _ in $(seq 1 150); do
  archived=$(deploy/cluster.sh psql -qAt -c "SELECT coalesce(floor(extract(epoch from last_archived_time) * 1000), 0)::bigint FROM pg_stat_archiver")
  if [ "${archived:-0}" -ge "$last_write" ]; then archived_after=$(( $(date +%s%3N) - last_write )); break; fi
  sleep 0.2
done
echo "the last write was in the WAL archive ${archived_after:-?} ms after it was acknowledged"
check "the last write archived within archive_timeout (10 s) and the archiver's push" yes "$([ -n "$archived_after" ] && [ "$archived_after" -le 15000 ] && echo yes || echo no)"
deploy/cluster.sh psql -qAt -c "DELETE FROM mt_doc_taskitem" >/dev/null
check "tasks left after the mistake" 0 "$(deploy/cluster.sh psql -qAt -c "SELECT count(*) FROM mt_doc_taskitem")"

echo "restoring to $noted"
out=$(deploy/cluster.sh restore --to "$noted" 2>&1)
status=$?
echo "$out"
check "deploy/cluster.sh restore --to $noted" 0 "$status"
recovery_ms=$(sed -nE 's/.*serving again, ([0-9]+) ms after.*/\1/p' <<<"$out")
for _ in $(seq 1 60); do [ "$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$BASE/health/ready")" = 200 ] && break; sleep 0.5; done

found=0 absent=0
# An id left empty (a create that was not acknowledged) counts as neither: the empty path would read the list instead.
for id in "${before[@]}"; do [ -n "$id" ] && [ "$(status_of "$id")" = 200 ] && found=$((found + 1)); done
for id in "${after[@]}"; do [ -n "$id" ] && [ "$(status_of "$id")" = 404 ] && absent=$((absent + 1)); done
check "tasks written before the noted time, read through the API after the restore" 25 "$found"
check "tasks written after it, gone (404)" 10 "$absent"
check "the user's tasks in the restored database" 25 \
  "$(deploy/cluster.sh psql -qAt -c "SELECT count(*) FROM mt_doc_taskitem WHERE data->>'title' LIKE 'before-%' OR data->>'title' LIKE 'after-%'")"
check "the API takes writes again" yes "$([ -n "$(create "after-restore")" ] && echo yes || echo no)"
echo "backup-restore: $found of 25 tasks from before the noted time back, $absent of 10 after it gone, restored and serving in ${recovery_ms:-?} ms, last write archived in ${archived_after:-?} ms, $failed failed checks"
[ "$failed" -eq 0 ]
