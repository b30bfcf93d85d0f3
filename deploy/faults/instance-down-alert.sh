#!/usr/bin/env bash
# Alert drill: a deployment of two instances with Prometheus and Alertmanager (deploy/prometheus/), as an operator runs
# it. Checks: no alert fires on the healthy deployment; after instance 2 is killed with SIGKILL, SliceApiInstanceDown
# (for: 30s, scrape and evaluation every 5 s) is firing at Alertmanager for that instance, no sooner than its for: window
# and within it plus two scrape and two evaluation intervals; after the instance is started again, the alert resolves
# (Alertmanager no longer holds it as active). Prints the times and ends with "instance-down-alert: ... N failed checks".
set -uo pipefail
cd "$(dirname "$0")/../.."
export SLICEAPI_MONITOR=1
. deploy/faults/common.sh
PROM="http://127.0.0.1:$PROMETHEUS_PORT" AM="http://127.0.0.1:$ALERTMANAGER_PORT"
FOR=30 INTERVAL=5

now() { date +%s%3N; }
# The active (not resolved, not silenced) alerts at Alertmanager named $1, as "instance" lines.
active() { curl -s "$AM/api/v2/alerts?active=true&silenced=false&inhibited=false" \
  | python3 -c 'import json, sys
for a in json.load(sys.stdin):
    if a["labels"].get("alertname") == sys.argv[1] and a["status"]["state"] == "active": print(a["labels"].get("instance", ""))' "$1"; }
# A PromQL instant query's single value (empty when none).
query() { curl -s "$PROM/api/v1/query" --data-urlencode "query=$1" \
  | python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }

# Prometheus has scraped both instances, and nothing fires on a healthy deployment (two evaluations later).
for _ in $(seq 1 60); do [ "$(query 'sum(up{job="sliceapi"})')" = 2 ] && break; sleep 0.5; done
check "Prometheus scrapes both instances' management addresses" 2 "$(query 'sum(up{job="sliceapi"})')"
sleep $((2 * INTERVAL))
check "alerts firing or pending on the healthy deployment" "" "$(query 'count(ALERTS)')"
check "the rules Prometheus loaded (every alert of deploy/prometheus/rules.yml)" "$(grep -cE '^ *- alert:' deploy/prometheus/rules.yml)" "$(curl -s "$PROM/api/v1/rules" | python3 -c 'import json, sys; print(sum(len(g["rules"]) for g in json.load(sys.stdin)["data"]["groups"]))')"

killed=$(now)
deploy/cluster.sh kill 2
fired=
for _ in $(seq 1 240); do
  if [ "$(active SliceApiInstanceDown)" = "127.0.0.1:$((FIRST_PORT + 101))" ]; then fired=$(now); break; fi
  sleep 0.25
done
if [ -n "$fired" ]; then
  after=$(( (fired - killed) / 1000 ))
  echo "SliceApiInstanceDown firing at Alertmanager $(( fired - killed )) ms after the kill (for: ${FOR}s, scrape and evaluation every ${INTERVAL}s)"
  check "fired no sooner than its for: window" yes "$([ "$after" -ge "$FOR" ] && echo yes || echo "no: ${after}s")"
  check "fired within for: plus two scrape and two evaluation intervals" yes "$([ "$after" -le $((FOR + 4 * INTERVAL)) ] && echo yes || echo "no: ${after}s")"
else
  check "SliceApiInstanceDown firing at Alertmanager for instance 2 within 60 s" fired "not fired"
fi
check "only the killed instance is reported down" "" "$(active SliceApiInstanceDown | grep -v "127.0.0.1:$((FIRST_PORT + 101))")"

restarted=$(now)
deploy/cluster.sh restart 2 >"$RUN/logs/restart.log" 2>&1 &
restarter=$!
resolved=
for _ in $(seq 1 240); do
  if [ -z "$(active SliceApiInstanceDown)" ]; then resolved=$(now); break; fi
  sleep 0.25
done
wait "$restarter"
check "instance 2 started again" 0 "$?"
[ -n "$resolved" ] && echo "SliceApiInstanceDown resolved at Alertmanager $(( resolved - restarted )) ms after instance 2 was started again"
check "SliceApiInstanceDown resolved within 60 s of the restart" resolved "$([ -n "$resolved" ] && echo resolved || echo "still active")"
echo "instance-down-alert: fired after $(( (${fired:-$killed} - killed) / 1000 )) s, resolved after $(( (${resolved:-$restarted} - restarted) / 1000 )) s, $failed failed checks"
[ "$failed" -eq 0 ]
