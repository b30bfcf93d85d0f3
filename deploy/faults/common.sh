# Shared by the fault drills (sourced, from the repository root): a deployment of two instances on the drills' own
# ports (with DRILL_START_ARGS=--ha on the replicated database), with rate limits above the load; check NAME EXPECTED
# ACTUAL (counts into $failed); new_user PREFIX (prints an access token of a fresh user); start_writer and
# check_acknowledged_stored (a writer logging every acknowledged create, then all of them looked up); wrk_failures.
# Sets RUN, BASE, CA and J, and stops the deployment when the drill exits.
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
export SLICEAPI_DEPLOY_DIR=${SLICEAPI_DEPLOY_DIR:-$(mktemp -d /tmp/sliceapi-drill-XXXXXX)}
chmod 755 "$SLICEAPI_DEPLOY_DIR"
export NGINX_PORT=28443 FIRST_PORT=25101 PG_PORT=25432 REDIS_PORT=26379 PROMETHEUS_PORT=29090 ALERTMANAGER_PORT=29093 \
  PATRONI_FIRST_PORT=28008 ETCD_PORT=22379
export SLICEAPI_INSTANCE_ENV="RateLimiting__AuthenticatedPerMinute=100000000 RateLimiting__CredentialsPerMinute=1000 ${DRILL_INSTANCE_ENV:-}"
trap 'deploy/cluster.sh stop 2>/dev/null || true' EXIT
RUN=$SLICEAPI_DEPLOY_DIR
failed=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1 ($3)"; else failed=$((failed + 1)); echo "FAIL $1: expected $2, got $3"; fi; }

BASE=$(deploy/cluster.sh start 2 ${DRILL_START_ARGS:-}) || exit 1 # DRILL_START_ARGS=--ha: the replicated database
CA="$RUN/tls/cert.pem"
J='Content-Type: application/json'

new_user() { # new_user PREFIX
  local email="$1-$RANDOM$RANDOM@example.com" token
  curl -s --cacert "$CA" -o /dev/null -H "$J" "$BASE/api/v1/users" -d "{\"email\":\"$email\",\"password\":\"a drill passphrase!\",\"displayName\":\"Drill\"}"
  token=$(curl -s --cacert "$CA" -H "$J" "$BASE/api/v1/auth/login" -d "{\"email\":\"$email\",\"password\":\"a drill passphrase!\"}" \
    | sed -nE 's/.*"accessToken":"([^"]*)".*/\1/p')
  [ -n "$token" ] || { echo "could not log in" >&2; exit 1; }
  echo "$token"
}

start_writer() { # start_writer SECONDS TITLE: creates tasks one at a time as $TOKEN's user, "<unix ms when sent> <status>
  # <id>" per request into $RUN/logs/writes.txt, in the background; sets $writer to its pid
  local end=$(( $(date +%s) + $1 )) title=$2
  ( while [ "$(date +%s)" -lt "$end" ]; do
      sent=$(date +%s%3N)
      out=$(curl -s --cacert "$CA" -m 10 -w ' %{http_code}' -H "Authorization: Bearer $TOKEN" -H "$J" "$BASE/api/v1/tasks" -d "{\"title\":\"$title\"}")
      echo "$sent ${out##* } $(sed -nE 's/^\{"id":"([^"]*)".*/\1/p' <<<"$out")"
    done ) >"$RUN/logs/writes.txt" &
  writer=$!
}

check_acknowledged_stored() { # every create the writer saw acknowledged (201) is in the database; sets $count
  local acknowledged ids stored
  acknowledged=$(awk '$2 == 201 && $3 != "" {print $3}' "$RUN/logs/writes.txt")
  count=$(wc -w <<<"$acknowledged")
  ids=$(sed "s/.*/'&'/" <<<"$acknowledged" | paste -sd, -)
  stored=$(deploy/cluster.sh psql -qAt -c "SELECT count(*) FROM mt_doc_taskitem WHERE id IN (${ids:-NULL})")
  check "every acknowledged create ($count) is in the database" "$count" "$stored"
}

wrk_failures() { # wrk_failures SUMMARY_FILE: non-2xx/3xx responses plus socket errors of a wrk run
  # A read error on a request nginx logged as 499 (the client closed the connection) is wrk's own: it closes the
  # connections with requests still in flight when its duration ends. Those are not failures of the service.
  local non2xx connect reads writes timeouts abandoned
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$1")
  read -r connect reads writes timeouts < <(sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1 \2 \3 \4/p' "$1")
  abandoned=$(grep -c '" 499 ' "$RUN/nginx-access.log" 2>/dev/null || true)
  reads=$(( ${reads:-0} - ${abandoned:-0} )); [ "$reads" -gt 0 ] || reads=0
  echo $(( ${non2xx:-0} + ${connect:-0} + reads + ${writes:-0} + ${timeouts:-0} ))
}
