#!/usr/bin/env bash
# Fault drill: the instance that delivers webhooks is killed with SIGKILL while deliveries are in flight.
#   - two instances behind nginx, a receiver on loopback whose checks are the Standard Webhooks reference library's
#     (.ci/webhook-receiver.mjs, npm standardwebhooks), answering each POST after 300 ms;
#   - 40 tasks are created at once (all acknowledged); once 4 messages arrived, the delivering instance (the one that
#     logged "This instance delivers webhooks now") is killed, and started again afterwards.
# Checks: the other instance takes over; every one of the 40 messages arrives and verifies; none is rejected; every
# delivery ends succeeded. A message that was in flight at the kill may arrive twice (same webhook-id: receivers
# deduplicate on it); the count is printed.
# Prints its figures and ends with "webhook-kill: ... N failed checks"; exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
export DRILL_INSTANCE_ENV="Webhooks__AllowPrivateNetworks=true Webhooks__PollMilliseconds=200"
. deploy/faults/common.sh
TOKEN=$(new_user hooks)
A="Authorization: Bearer $TOKEN"
HOOK_PORT=24020
: >"$RUN/logs/webhooks.log"
WEBHOOK_LOG="$RUN/logs/webhooks.log" WEBHOOK_SECRETS="$RUN/logs/webhook-secrets.txt" DELAY_MS=300 node .ci/webhook-receiver.mjs "$HOOK_PORT" &
receiver=$!
trap 'kill $receiver 2>/dev/null; deploy/cluster.sh stop 2>/dev/null || true' EXIT

registered=$(curl -s --cacert "$CA" -H "$A" -H "$J" "$BASE/api/v1/webhooks" -d "{\"url\":\"http://127.0.0.1:$HOOK_PORT/hook\",\"eventTypes\":[\"task.created\"]}")
sed -nE 's/.*"secret":"([^"]*)".*/\1/p' <<<"$registered" >"$RUN/logs/webhook-secrets.txt"
hook_id=$(sed -nE 's/.*"webhook":\{"id":"([^"]*)".*/\1/p' <<<"$registered")
check "webhook endpoint registered" yes "$([ -n "$hook_id" ] && echo yes || echo no)"

# Every create is acknowledged before the kill (a create in flight on the killed instance would die with it, and
# nginx does not repeat an unkeyed POST), so each of the 40 tasks has its message to deliver.
creates=()
for i in $(seq 1 40); do
  curl -s --cacert "$CA" -o /dev/null -w '%{http_code}\n' -H "$A" -H "$J" "$BASE/api/v1/tasks" -d "{\"title\":\"Hook drill $i\"}" >>"$RUN/logs/hook-creates.txt" &
  creates+=($!)
done
wait "${creates[@]}"
check "creates acknowledged" 40 "$(grep -c '^201$' "$RUN/logs/hook-creates.txt")"
# Kill once deliveries are flowing (at least 4 arrived), with the rest still queued or in flight.
for _ in $(seq 1 100); do [ "$(awk '$2 == "verified"' "$RUN/logs/webhooks.log" | wc -l)" -ge 4 ] && break; sleep 0.05; done
delivering=$(grep -l 'This instance delivers webhooks now' "$RUN"/logs/instance-*.log | head -1 | sed -nE 's/.*instance-([0-9]+)\.log/\1/p')
other=$(( delivering == 1 ? 2 : 1 ))
killed_at=$(date +%s%3N)
deploy/cluster.sh kill "$delivering"
echo "killed instance $delivering (the delivering node) with $(awk '$2 == "verified"' "$RUN/logs/webhooks.log" | wc -l) of 40 messages received"
for _ in $(seq 1 300); do
  [ "$(awk '$2 == "verified" {print $3}' "$RUN/logs/webhooks.log" | sort -u | wc -l)" -ge 40 ] && break
  sleep 0.1
done
done_at=$(date +%s%3N)
deploy/cluster.sh restart "$delivering" >/dev/null

verified=$(awk '$2 == "verified" {print $3}' "$RUN/logs/webhooks.log" | sort -u | wc -l)
twice=$(awk '$2 == "verified" {print $3}' "$RUN/logs/webhooks.log" | sort | uniq -d | wc -l)
after_kill=$(awk -v t="$killed_at" '$1 > t && $2 == "verified"' "$RUN/logs/webhooks.log" | wc -l)
echo "after the kill: $after_kill POSTs verified, the last $(( done_at - killed_at )) ms after it; messages received twice: $twice"
check "instance $other took over delivering" yes "$(grep -q 'This instance delivers webhooks now' "$RUN/logs/instance-$other.log" && echo yes || echo no)"
check "distinct messages verified by standardwebhooks" 40 "$verified"
check "messages the reference library rejected" 0 "$(awk '$2 == "rejected"' "$RUN/logs/webhooks.log" | wc -l)"
check "deliveries not succeeded in the database" 0 \
  "$(deploy/cluster.sh psql -qAt -c "SELECT count(*) FROM mt_doc_webhookdelivery WHERE endpoint_id = '$hook_id' AND state <> 'Succeeded'")"
check "deliveries stored for the endpoint" 40 \
  "$(deploy/cluster.sh psql -qAt -c "SELECT count(*) FROM mt_doc_webhookdelivery WHERE endpoint_id = '$hook_id'")"
echo "webhook-kill: $verified of 40 messages verified after killing the delivering instance, $twice received twice, $failed failed checks"
[ "$failed" -eq 0 ]
