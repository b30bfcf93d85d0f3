#!/usr/bin/env bash
# Failover drill, on the replicated database (deploy/cluster.sh start 2 --ha: Patroni, a primary and a synchronous
# standby, etcd), behind nginx with two instances, under steady mixed load (wrk with deploy/faults/mixed.lua: reads,
# creates with and without an Idempotency-Key) and a writer logging every acknowledged create. Three faults in turn:
#   1. the primary's PostgreSQL alone is killed (SIGKILL): its Patroni starts it again, and it stays the primary;
#   2. etcd is killed for 15 s: the primary stays primary (Patroni's failsafe mode) and writes go on;
#   3. the primary node is lost: its Patroni and its PostgreSQL killed at once (SIGKILL). Patroni promotes the standby
#      once the leader key expires (ttl 10 s, loop_wait 2 s: deploy/patroni/patroni.yml); the old primary's node is
#      started again and must rejoin as the synchronous standby.
# Checks: writes answered again within 15 s of each kill; meanwhile nothing but 503 problems with Retry-After (nginx's
# log: no other 5xx, no 4xx); every create acknowledged is in the database (synchronous replication); after the
# failover a password changed through one instance ends the old access token at the other at once (the revocation
# listener follows the new primary), and the changes feed goes on. Prints its figures and ends with
# "failover: ... N failed checks"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
DRILL_START_ARGS=--ha
export SLICEAPI_MONITOR=1 # Prometheus scrapes the nodes' Patroni too
. deploy/faults/common.sh
TOKEN=$(new_user failover)
A="Authorization: Bearer $TOKEN"
export TOKEN KEY_PREFIX="failover-$RANDOM$RANDOM"
deploy/cluster.sh nodes

now_ms() { date +%s%3N; }
# first_write_after T: the time (unix ms) of the writer's first 2xx sent at or after T
first_write_after() { awk -v t="$1" '$1 >= t && $2 ~ /^2/ {print $1; exit}' "$RUN/logs/writes.txt"; }
# a_503_meanwhile: requests GET /users/me until one is a 503 (for up to 10 s) and prints its Retry-After, or "none"
a_503_meanwhile() {
  local headers
  for _ in $(seq 1 100); do
    headers=$(curl -s --cacert "$CA" -m 5 -D - -o /dev/null -H "$A" "$BASE/api/v1/users/me")
    if [ "$(awk 'NR == 1 {print $2}' <<<"$headers")" = 503 ]; then
      sed -nE 's/^[Rr]etry-[Aa]fter: *([0-9]+).*/\1/p' <<<"$headers"
      return
    fi
    sleep 0.1
  done
  echo none
}

wrk -t1 -c4 -d95s --timeout 10s -s deploy/faults/mixed.lua "$BASE" >"$RUN/logs/wrk-failover.txt" 2>&1 &
load=$!
start_writer 95 "Failover drill"
sleep 5

# 1. PostgreSQL alone killed on the primary.
first=$(deploy/cluster.sh leader)
echo "the primary is node $first"
deploy/cluster.sh pg-kill "$first"
killed=$(now_ms) # once the processes are gone: a request sent before this may still have been answered
retry_after=$(a_503_meanwhile)
back=$(first_write_after "$killed")
for _ in $(seq 1 150); do [ -n "$back" ] && break; sleep 0.1; back=$(first_write_after "$killed"); done
pg_back_ms=$(( ${back:-99999999999999} - killed ))
echo "PostgreSQL killed alone: the writer's first 2xx came $pg_back_ms ms after the kill"
check "writes answered within 15 s of PostgreSQL's kill" yes "$([ "$pg_back_ms" -le 15000 ] && echo yes || echo "no ($pg_back_ms ms)")"
check "a 503 meanwhile, and its Retry-After (seconds)" 2 "$retry_after"
check "the same node is the primary after its PostgreSQL came back" "$first" "$(deploy/cluster.sh leader)"
sleep 8

# 2. etcd lost for 15 s: with Patroni's failsafe mode the primary, reaching the other node, stays primary and writes go
# on (without it, it would demote itself once the leader key could not be renewed).
deploy/cluster.sh etcd-kill
etcd_killed=$(now_ms)
sleep 15
etcd_back=$(now_ms)
deploy/cluster.sh etcd-start
during_etcd=$(awk -v from="$etcd_killed" -v to="$etcd_back" '$1 >= from && $1 < to {print $2}' "$RUN/logs/writes.txt" | sort | uniq -c | tr -s ' ' | paste -sd, -)
echo "writer statuses while etcd was down: $during_etcd"
check "writes while etcd was down: all 201" yes "$(awk -v from="$etcd_killed" -v to="$etcd_back" '$1 >= from && $1 < to' "$RUN/logs/writes.txt" \
  | awk 'BEGIN {n = 0; bad = 0} {n++; if ($2 != 201) bad++} END {print (n > 0 && bad == 0) ? "yes" : "no"}')"
check "the same node is the primary after etcd's loss" "$first" "$(deploy/cluster.sh leader)"
sleep 5

# 3. The primary node lost.
first=$(deploy/cluster.sh leader)
second=$((3 - first))
deploy/cluster.sh node-kill "$first"
killed=$(now_ms)
retry_after=$(a_503_meanwhile)
promoted=
for _ in $(seq 1 300); do
  [ "$(deploy/cluster.sh leader)" = "$second" ] && { promoted=$(now_ms); break; }
  sleep 0.1
done
back=$(first_write_after "$killed")
for _ in $(seq 1 200); do [ -n "$back" ] && break; sleep 0.1; back=$(first_write_after "$killed"); done
back_ms=$(( ${back:-99999999999999} - killed ))
promoted_ms=$(( ${promoted:-99999999999999} - killed ))
echo "node $first lost: node $second promoted $promoted_ms ms after the kill; the writer's first 2xx came $back_ms ms after it"
check "node $second (the standby) promoted" "$second" "$(deploy/cluster.sh leader)"
check "writes answered within 15 s of losing the primary" yes "$([ "$back_ms" -le 15000 ] && echo yes || echo "no ($back_ms ms)")"
check "a 503 meanwhile, and its Retry-After (seconds)" 2 "$retry_after"
acknowledged_before=$(awk -v t="$killed" '$1 < t && $2 == 201 && $3 != ""' "$RUN/logs/writes.txt" | wc -l)

# The old primary's node comes back and rejoins as the synchronous standby.
sleep 5
restarted=$(now_ms)
deploy/cluster.sh node-start "$first"
rejoined=
for _ in $(seq 1 600); do
  [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((PATRONI_FIRST_PORT + first - 1))/sync")" = 200 ] && { rejoined=$(now_ms); break; }
  sleep 0.1
done
rejoined_ms=$(( ${rejoined:-99999999999999} - restarted ))
echo "node $first rejoined as the synchronous standby $rejoined_ms ms after it was started again"
deploy/cluster.sh nodes
check "node $first rejoined as the synchronous standby within 60 s" yes "$([ "$rejoined_ms" -le 60000 ] && echo yes || echo "no")"

# The revocation listener of each instance listens on the new primary (its LISTEN connection was on the old one): a
# password changed through instance 1 ends the old access token at instance 2 at once (without the message it would
# trust its cache for up to 30 s).
email="failover-revoke-$RANDOM$RANDOM@example.com"
curl -s --cacert "$CA" -o /dev/null -H "$J" "$BASE/api/v1/users" -d "{\"email\":\"$email\",\"password\":\"a drill passphrase!\",\"displayName\":\"Drill\"}"
old=$(curl -s --cacert "$CA" -H "$J" "$BASE/api/v1/auth/login" -d "{\"email\":\"$email\",\"password\":\"a drill passphrase!\"}" | sed -nE 's/.*"accessToken":"([^"]*)".*/\1/p')
instance() { echo "http://127.0.0.1:$((FIRST_PORT + $1 - 1))"; }
at() { # at I METHOD PATH [CURL_ARGS...]: the status of a request to instance I itself, not through nginx
  local i=$1 method=$2 path=$3; shift 3
  curl -s -o /dev/null -w '%{http_code}' -m 10 -X "$method" -H "X-Forwarded-Proto: https" -H "Authorization: Bearer $old" "$@" "$(instance "$i")$path"
}
check "the new user's token at instance 2 (cached there)" 200 "$(at 2 GET /api/v1/users/me)"
sleep 1.1 # a token issued in the second of the change still counts (its iat is in whole seconds)
check "password changed through instance 1" 204 "$(at 1 POST /api/v1/users/me/password -H "$J" \
  -d '{"currentPassword":"a drill passphrase!","newPassword":"a newer drill passphrase"}')"
sleep 0.5
check "the old token at instance 2, half a second later" 401 "$(at 2 GET /api/v1/users/me)"

# The changes feed goes on after the failover: the async daemon (one instance holds it, by an advisory lock that was on
# the old primary) runs again, and a task created now is in the feed.
fresh=$(curl -s --cacert "$CA" -H "$J" "$BASE/api/v1/auth/login" -d "{\"email\":\"$email\",\"password\":\"a newer drill passphrase\"}" \
  | sed -nE 's/.*"accessToken":"([^"]*)".*/\1/p')
task=$(curl -s --cacert "$CA" -m 10 -H "Authorization: Bearer $fresh" -H "$J" "$BASE/api/v1/tasks" -d '{"title":"after the failover"}' \
  | sed -nE 's/^\{"id":"([^"]*)".*/\1/p')
in_feed=no
for _ in $(seq 1 60); do
  curl -s --cacert "$CA" -m 10 -H "Authorization: Bearer $fresh" "$BASE/api/v1/changes" | grep -q "\"taskId\":\"${task:-none}\"" && { in_feed=yes; break; }
  sleep 0.5
done
check "a task created after the failover is in the changes feed within 30 s" yes "$in_feed"

# Prometheus scrapes both nodes' Patroni, and sees the new primary (what SliceApiDatabaseNodeDown and
# SliceApiDatabaseNotReplicated watch).
promql() { # promql QUERY: the value of a query's single result, or "none"
  curl -s "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query" --data-urlencode "query=$1" \
    | python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if len(r) == 1 else "none")'
}
scraped=none
for _ in $(seq 1 40); do
  scraped="$(promql 'sum(up{job="patroni"})') $(promql "max(patroni_primary{instance=\"127.0.0.1:$((PATRONI_FIRST_PORT + second - 1))\"})") $(promql 'sum(patroni_sync_standby)')"
  [ "$scraped" = "2 1 1" ] && break
  sleep 0.5
done
check "Prometheus: Patroni nodes up, node $second primary, synchronous standbys" "2 1 1" "$scraped"

wait "$load" "$writer"

cat "$RUN/logs/wrk-failover.txt"
awk '{print $2}' "$RUN/logs/writes.txt" | sort | uniq -c | sed 's/^/writer status count: /'
grep -oE '" [0-9]{3} ' "$RUN/nginx-access.log" | sort | uniq -c | sed 's/^/nginx status count: /'
check "5xx other than 503 (nginx-access.log)" 0 "$(grep -oE '" 5[0-9]{2} ' "$RUN/nginx-access.log" | grep -vc '" 503 ')"
check "4xx (nginx-access.log; wrk's 499 at its end aside)" 0 "$(grep -oE '" 4[0-9]{2} ' "$RUN/nginx-access.log" | grep -vc '" 499 ')"
check "writer statuses other than 201 and 503" 0 "$(awk '$2 != 201 && $2 != 503' "$RUN/logs/writes.txt" | wc -l)"
check_acknowledged_stored
echo "failover: PostgreSQL killed alone, writes back in $pg_back_ms ms; etcd lost 15 s, writes went on; primary node lost, standby promoted in $promoted_ms ms," \
  "writes back in $back_ms ms, $acknowledged_before creates acknowledged before the loss and $count in all kept; old primary rejoined in $rejoined_ms ms; drill ran $SECONDS s; $failed failed checks"
[ "$failed" -eq 0 ]
