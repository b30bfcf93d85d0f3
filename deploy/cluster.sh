#!/usr/bin/env bash
# SliceApi as a small production deployment on this machine: PostgreSQL, Redis (the shared rate-limit counters),
# N instances of the published API on loopback ports, nginx in front of them (TLS, keepalive, safe retries:
# deploy/nginx.conf).
#
#   deploy/cluster.sh start [N]   publish (Release), start PostgreSQL and Redis, apply the schema (migrate), start N
#                                 instances (default 2) and nginx; prints the base URL once it answers /health/ready.
#                                 Publishes this checkout, or the commit SLICEAPI_RELEASE names (a git ref)
#   deploy/cluster.sh build REF   publishes the commit REF names as a release ($RUN/releases/<commit>), for upgrade
#   deploy/cluster.sh upgrade REF builds REF (unless built), applies its schema changes (additive: migrate never drops),
#                                 then replaces the instances one at a time behind nginx: drain, start, ready, back in
#                                 rotation, next. The release that ran before is kept for rollback
#   deploy/cluster.sh rollback    the same rolling replacement back to the release that ran before the last upgrade (or
#                                 rollback); the schema stays as the newer release left it
#   deploy/cluster.sh release     prints the release the instances start from
#   deploy/cluster.sh stop        stop nginx, the instances (SIGTERM, then SIGKILL after 30 s), Redis and PostgreSQL
#   deploy/cluster.sh status      what runs
#   deploy/cluster.sh app ARGS    runs `dotnet SliceApi.dll ARGS` with the deployment's settings, e.g.
#                                 `app create-admin --email root@example.com --password '...'` or `app db-patch pending.sql`
#   deploy/cluster.sh env         prints those settings, one NAME=value per line (secrets included: keep it private)
#   deploy/cluster.sh restart I   stops instance I gracefully (SIGTERM, as a deploy would), starts it again, waits until ready
#                                 and back in nginx's rotation (an instance that is not running is just started)
#   deploy/cluster.sh kill I      kills instance I with SIGKILL, as a crash would
#   deploy/cluster.sh pg-stop | pg-start   stops (fast: open sessions are ended) or starts PostgreSQL alone, for fault drills
#   deploy/cluster.sh redis-stop | redis-start   the same for Redis (stopped with SIGKILL, as a crash would)
#   deploy/cluster.sh psql ARGS   psql on the deployment's database, as its owner
#   deploy/cluster.sh monitor     starts Prometheus (scraping every instance's management address, with the alert rules of
#                                 deploy/prometheus/rules.yml) and Alertmanager for the running deployment; `start` does
#                                 it too with SLICEAPI_MONITOR=1. Prometheus: http://127.0.0.1:PROMETHEUS_PORT, Alertmanager:
#                                 http://127.0.0.1:ALERTMANAGER_PORT
#   deploy/cluster.sh alerts      the alerts firing now, as Alertmanager has them (name, instance, since when)
#   deploy/cluster.sh backup      a base backup with pgBackRest (incremental after the first, which is full) into
#                                 $RUN/backups; PostgreSQL archives every WAL segment there continuously (archive_timeout
#                                 10 s), so any moment since the first backup can be restored
#   deploy/cluster.sh restore --to TIME   point-in-time recovery: stops the instances and PostgreSQL, moves the data
#                                 directory aside ($RUN/postgres.replaced-<time>), restores the backup before TIME (RFC 3339,
#                                 e.g. 2026-12-05T08:30:00.250Z) into a fresh one, replays the archived WAL up to TIME,
#                                 promotes it, and starts the instances on it; prints how long it took
#   deploy/cluster.sh backups     pgBackRest's list of backups and the archived WAL range
#
# With --ha (deploy/cluster.sh start N --ha), PostgreSQL runs replicated instead of as one server: two nodes under
# Patroni (deploy/patroni/patroni.yml), a primary and a synchronous standby, with etcd as Patroni's store; Patroni
# promotes the standby when the primary is lost and the old primary rejoins as a standby when it comes back. The
# instances reach whichever node is the primary through Npgsql's multi-host connection string (Target Session
# Attributes=primary). The deployment stays HA until it is removed ($RUN/ha). For drills:
#   deploy/cluster.sh nodes       Patroni's view of the nodes (patronictl list): role, state, timeline, lag
#   deploy/cluster.sh node-kill I kills node I's Patroni and PostgreSQL with SIGKILL, as a lost machine
#   deploy/cluster.sh node-start I   starts node I's Patroni again (it rewinds and rejoins as a standby if it was primary)
#   deploy/cluster.sh pg-kill I   kills node I's PostgreSQL alone with SIGKILL (its Patroni starts it again)
#   deploy/cluster.sh leader      the number of the node that is the primary now (nothing while there is none)
#   deploy/cluster.sh etcd-kill | etcd-start   kills etcd with SIGKILL, or starts it again (its data is kept)
#
# Settings (environment): SLICEAPI_DEPLOY_DIR (default /tmp/sliceapi-deploy: pids, logs, data, TLS files),
# NGINX_PORT (8443), FIRST_PORT (5101: instance i listens on FIRST_PORT + i - 1), MANAGEMENT_FIRST_PORT (5201: instance
# i serves its Prometheus scrape endpoint on 127.0.0.1:MANAGEMENT_FIRST_PORT + i - 1, /metrics), PG_PORT (55432),
# REDIS_PORT (56379), PROMETHEUS_PORT (59090), ALERTMANAGER_PORT (59093); with --ha, node i's PostgreSQL listens on
# PG_PORT + i - 1 and its Patroni REST API on PATRONI_FIRST_PORT + i - 1 (58008), etcd on ETCD_PORT (52379; peers + 1).
# The instances run with ASPNETCORE_ENVIRONMENT=Production: HTTPS required (nginx terminates TLS and sends
# X-Forwarded-Proto, believed because Http:KnownProxies is nginx's address), the schema verified at start-up
# (Database:VerifySchemaOnStartup) instead of applied, and one JWT signing key shared by all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=${SLICEAPI_DEPLOY_DIR:-/tmp/sliceapi-deploy}
NGINX_PORT=${NGINX_PORT:-8443}
FIRST_PORT=${FIRST_PORT:-5101}
MANAGEMENT_FIRST_PORT=${MANAGEMENT_FIRST_PORT:-$((FIRST_PORT + 100))}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-59090}
ALERTMANAGER_PORT=${ALERTMANAGER_PORT:-59093}
PATRONI_FIRST_PORT=${PATRONI_FIRST_PORT:-58008}
ETCD_PORT=${ETCD_PORT:-52379}
HA_NODES=2
# How long nginx skips an instance that failed a request (max_fails=1): longer than an instance's drain (Shutdown:DrainSeconds).
FAIL_TIMEOUT=10

log() { echo "[deploy $(date +%H:%M:%S)] $*" >&2; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
current_release() { basename "$(readlink "$RUN/app")"; }

# publish_release [REF]: publishes the commit REF names (its tree, from git) or, without REF, this checkout into
# $RUN/releases/<name> and prints the name (the short commit, or "checkout"). A release already built is reused.
publish_release() {
  local ref=${1:-} name source
  if [ -z "$ref" ]; then
    name=checkout source=$ROOT
    rm -rf "$RUN/releases/checkout"
  else
    name=$(git -C "$ROOT" rev-parse --short=12 "$ref^{commit}") || { log "no commit named $ref"; exit 1; }
    source=$RUN/src/$name
    if [ ! -f "$source/SliceApi.csproj" ]; then
      mkdir -p "$source"
      git -C "$ROOT" archive "$name" | tar -x -C "$source"
    fi
  fi
  if [ ! -f "$RUN/releases/$name/SliceApi.dll" ]; then
    log "publishing release $name (Release) to $RUN/releases/$name"
    dotnet publish "$source/SliceApi.csproj" -c Release -o "$RUN/releases/$name" -nologo -v quiet >"$RUN/logs/publish-$name.log" 2>&1 \
      || { tail -20 "$RUN/logs/publish-$name.log" >&2; exit 1; }
  fi
  echo "$name"
}

migrate() { # migrate RELEASE: applies RELEASE's document schema (additive), under Marten's advisory lock
  log "applying the document schema of release $1 (dotnet SliceApi.dll migrate)"
  load_app_env
  env "${APP_ENV[@]}" dotnet "$RUN/releases/$1/SliceApi.dll" migrate >"$RUN/logs/migrate-$1.log" 2>&1 \
    || { cat "$RUN/logs/migrate-$1.log" >&2; exit 1; }
}

# replace_all RELEASE: points $RUN/app at RELEASE, then restarts every instance in turn (restart waits until each is
# ready and back in nginx's rotation before the next goes), so nginx always has one instance to send requests to.
replace_all() {
  local from; from=$(current_release)
  ln -sfn "$RUN/releases/$1" "$RUN/app"
  echo "$from" >"$RUN/previous-release"
  for i in $(seq 1 "$(cat "$RUN/instances")"); do restart "$i"; done
  log "every instance runs release $1 (the one before: $from)"
}

ha() { [ -f "$RUN/ha" ]; }

# The database's connection string: one server, or with --ha every node, of which Npgsql uses the one that is the
# primary (it asks a node when it opens a connection, and remembers the answer for Host Recheck Seconds).
connection_string() {
  local password; password=$(cat "$RUN/secrets/db-password")
  if ha; then
    echo "Host=127.0.0.1:$PG_PORT,127.0.0.1:$((PG_PORT + 1));Database=sliceapi;Username=sliceapi;Password=$password;Target Session Attributes=primary;Host Recheck Seconds=1"
  else
    echo "Host=127.0.0.1;Port=$PG_PORT;Database=sliceapi;Username=sliceapi;Password=$password"
  fi
}

db_psql() { # psql on the database as its owner; with --ha on the primary (libpq's target_session_attrs)
  local conninfo="host=127.0.0.1 port=$PG_PORT dbname=sliceapi user=sliceapi"
  ha && conninfo="host=127.0.0.1,127.0.0.1 port=$PG_PORT,$((PG_PORT + 1)) dbname=sliceapi user=sliceapi target_session_attrs=read-write"
  PGPASSWORD=$(cat "$RUN/secrets/db-password") "$(pg_bin)/psql" "$conninfo" "$@"
}

# The environment every instance and the migrate command share; SLICEAPI_INSTANCE_ENV (NAME=value ...) adds to or
# overrides it, e.g. SLICEAPI_INSTANCE_ENV="RateLimiting__AuthenticatedPerMinute=1000000" for load tests.
app_env() {
  cat <<EOF
ASPNETCORE_ENVIRONMENT=Production
ConnectionStrings__Postgres=$(connection_string)
Jwt__SigningKey=$(cat "$RUN/secrets/jwt-signing-key")
Database__MigrateOnStartup=false
Database__VerifySchemaOnStartup=true
Http__KnownProxies__0=127.0.0.1
Shutdown__RefuseRepeatableWhileDraining=true
Http__HttpsPort=$NGINX_PORT
RateLimiting__Store=Redis
RateLimiting__Redis=127.0.0.1:$REDIS_PORT,password=$(cat "$RUN/secrets/redis-password")
EOF
  for setting in ${SLICEAPI_INSTANCE_ENV:-}; do echo "$setting"; done
}

# load_app_env: app_env's settings into the array APP_ENV, one NAME=value each (a value may hold spaces), for
# `env "${APP_ENV[@]}" COMMAND`.
load_app_env() { mapfile -t APP_ENV < <(app_env); }

start_redis() {
  command -v redis-server >/dev/null || { log "redis-server is missing (apt-get install redis-server)"; exit 1; }
  if alive "$RUN/redis.pid"; then return; fi
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  # Counters only: nothing is saved to disk. The password goes in a config file, not on the command line.
  printf 'requirepass %s\n' "$(cat "$RUN/secrets/redis-password")" >"$RUN/secrets/redis.conf"
  redis-server "$RUN/secrets/redis.conf" --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$RUN/logs/redis.log" --dir "$RUN"
  for _ in $(seq 1 50); do [ -s "$RUN/redis.pid" ] && break; sleep 0.1; done
}

# pgBackRest: its configuration (repository $RUN/backups, two full backups kept), run as the postgres user.
pgbackrest_conf() {
  local dir="$RUN/pgbackrest"
  mkdir -p "$dir" "$RUN/backups" "$RUN/logs/pgbackrest"
  cat >"$dir/pgbackrest.conf" <<CONF
[global]
repo1-path=$RUN/backups
repo1-retention-full=2
log-path=$RUN/logs/pgbackrest
lock-path=$dir/lock
spool-path=$dir/spool
start-fast=y
compress-type=lz4
log-level-console=warn

[sliceapi]
CONF
  if ha; then # every node; pgBackRest backs up from whichever is the primary
    local i
    for i in $(seq 1 "$HA_NODES"); do
      printf 'pg%s-path=%s\npg%s-port=%s\npg%s-socket-path=%s\npg%s-user=sliceapi\n' "$i" "$(node_data "$i")" "$i" "$((PG_PORT + i - 1))" \
        "$i" "$(node_data "$i")-socket" "$i" >>"$dir/pgbackrest.conf"
    done
  else
    printf 'pg1-path=%s\npg1-port=%s\npg1-socket-path=%s\npg1-user=sliceapi\n' "$RUN/postgres" "$PG_PORT" "$RUN/postgres" >>"$dir/pgbackrest.conf"
  fi
  # The backup connects as the database's owner over the socket; libpq takes the password from this file.
  (umask 077; printf '*:*:*:sliceapi:%s\n' "$(cat "$RUN/secrets/db-password")" >"$dir/pgpass")
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir" "$RUN/backups" "$RUN/logs/pgbackrest"
  return 0
}
pgbr() { as_pg env PGPASSFILE="$RUN/pgbackrest/pgpass" pgbackrest --config="$RUN/pgbackrest/pgbackrest.conf" --stanza=sliceapi "$@"; }

backup() {
  command -v pgbackrest >/dev/null || { log "pgbackrest is missing (apt-get install pgbackrest)"; exit 1; }
  log "base backup (pgBackRest) into $RUN/backups"
  pgbr backup >>"$RUN/logs/pgbackrest-commands.log" 2>&1 || { tail -20 "$RUN/logs/pgbackrest-commands.log" >&2; exit 1; }
  pgbr info --output=json | python3 -c 'import json, sys
b = json.load(sys.stdin)[0]["backup"][-1]
print(b["label"], b["type"], "from", b["timestamp"]["start"], "to", b["timestamp"]["stop"])'
}

restore() { # restore --to TIME
  [ "${1:-}" = --to ] && [ -n "${2:-}" ] || { log "usage: deploy/cluster.sh restore --to <RFC 3339 time>"; exit 2; }
  local target=$2 started bin instances i recovery_target suffix
  date -u -d "$target" >/dev/null 2>&1 && [[ "$target" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt\ ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$ ]] \
    || { log "not an RFC 3339 date-time with an offset: $target"; exit 2; }
  started=$(date +%s%3N)
  bin=$(pg_bin)
  # pgBackRest takes the time as "YYYY-MM-DD HH:MM:SS.mmm+00" (PostgreSQL's recovery_target_time), here in UTC.
  recovery_target=$(date -u -d "$target" '+%Y-%m-%d %H:%M:%S.%3N+00')
  suffix=replaced-$(date -u +%Y%m%dT%H%M%SZ)
  instances=$(cat "$RUN/instances" 2>/dev/null || echo 0)
  log "restoring the database to $target: the instances stop until it is back"
  for i in $(seq 1 "$instances"); do stop_instance "$i" & done
  wait
  if ha; then
    restore_ha "$recovery_target" "$suffix"
  else
    as_pg "$bin/pg_ctl" -D "$RUN/postgres" status >/dev/null 2>&1 && as_pg "$bin/pg_ctl" -D "$RUN/postgres" -m fast -w stop >/dev/null
    mv "$RUN/postgres" "$RUN/postgres.$suffix"
    log "the data directory as it was is kept in $RUN/postgres.$suffix"
    mkdir -m 700 "$RUN/postgres"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$RUN/postgres"
    pgbr restore --type=time --target="$recovery_target" --target-action=promote >>"$RUN/logs/pgbackrest-commands.log" 2>&1 \
      || { tail -20 "$RUN/logs/pgbackrest-commands.log" >&2; exit 1; }
    # The socket's lock file lives in the data directory and came back with the backup; no server owns it here.
    rm -f "$RUN/postgres"/.s.PGSQL.*
    start_postgres
    # Recovery replays the archived WAL up to the target, then promotes; only then does it take writes.
    for _ in $(seq 1 600); do
      [ "$(db_psql -qAt -c 'select pg_is_in_recovery()' 2>/dev/null)" = f ] && break
      sleep 0.2
    done
  fi
  for i in $(seq 1 "$instances"); do start_instance "$i"; done
  for i in $(seq 1 "$instances"); do
    wait_ready "http://127.0.0.1:$((FIRST_PORT + i - 1))/health/ready" -H "X-Forwarded-Proto: https" \
      || { tail -20 "$RUN/logs/instance-$i.log"; exit 1; }
  done
  log "restored to $target and serving again, $(( $(date +%s%3N) - started )) ms after the restore began"
}

# restore_ha RECOVERY_TARGET SUFFIX: the replicated database restored. Every node and etcd stop; Patroni's record of the
# old cluster is dropped and every node's data directory moved aside (<dir>.SUFFIX); node 1 is bootstrapped anew by
# Patroni's custom bootstrap method, pgBackRest's restore up to RECOVERY_TARGET (patroni_conf), and promoted at the
# target; node 2 then clones it and becomes its synchronous standby.
restore_ha() {
  local i
  stop_ha_database --together
  rm -rf "$RUN/etcd"
  for i in $(seq 1 "$HA_NODES"); do
    [ -d "$(node_data "$i")" ] && mv "$(node_data "$i")" "$(node_data "$i").$2"
  done
  log "the nodes' data directories as they were are kept in $RUN/patroni/node*.$2"
  mkdir -m 700 "$(node_data 1)"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$(node_data 1)"
  start_etcd
  RESTORE_TARGET=$1 start_node 1
  for _ in $(seq 1 1200); do [ "$(leader)" = 1 ] && break; sleep 0.25; done
  [ "$(leader)" = 1 ] || { log "node 1 did not come back as the primary; its log:"; tail -30 "$RUN/logs/patroni-node1.log" >&2; exit 1; }
  # pgBackRest wrote its recovery settings into postgresql.auto.conf, which Patroni leaves alone and a clone copies:
  # left there, they would stop a standby's replay at the target time.
  db_psql -qAt -c "ALTER SYSTEM RESET restore_command" -c "ALTER SYSTEM RESET recovery_target_time" \
    -c "ALTER SYSTEM RESET recovery_target_action" -c "SELECT pg_reload_conf()" >/dev/null
  patroni_conf 1 # without the restore method, for the record
  for i in $(seq 2 "$HA_NODES"); do start_node "$i"; done
  for _ in $(seq 1 600); do [ -n "$(sync_standby)" ] && break; sleep 0.25; done
  [ -n "$(sync_standby)" ] || { log "no synchronous standby after the restore; the logs:"; tail -20 "$RUN"/logs/patroni-node*.log >&2; exit 1; }
  log "node 1 is the primary on the restored data, node $(sync_standby) its synchronous standby"
}

stop_instance() { # stop_instance I: SIGTERM, SIGKILL after 30 s
  local pidfile="$RUN/instance-$1.pid" pid
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# The pgBackRest stanza (its repository's record of this cluster), created once; archiving waits for it.
ensure_stanza() {
  command -v pgbackrest >/dev/null || return 0
  [ -f "$RUN/pgbackrest/pgbackrest.conf" ] || pgbackrest_conf
  [ -d "$RUN/backups/backup/sliceapi" ] && return 0
  pgbr stanza-create >>"$RUN/logs/pgbackrest-commands.log" 2>&1 || { tail -20 "$RUN/logs/pgbackrest-commands.log" >&2; exit 1; }
}

start_postgres() {
  local bin data="$RUN/postgres"
  bin=$(pg_bin)
  [ -n "$bin" ] || { log "PostgreSQL's server binaries are missing (apt-get install postgresql)"; exit 1; }
  if [ ! -f "$data/PG_VERSION" ]; then
    log "creating the PostgreSQL cluster in $data"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
    local pwfile="$RUN/initdb-password"
    install -m 600 "$RUN/secrets/db-password" "$pwfile"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$pwfile"
    as_pg "$bin/initdb" -D "$data" -U sliceapi --pwfile="$pwfile" --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
      -E UTF8 --no-locale >"$RUN/logs/initdb.log"
    rm -f "$pwfile"
    # Continuous WAL archiving into pgBackRest's repository; a segment is closed and archived at least every 10 s, which
    # bounds what a lost server loses. Kept in the data directory, so a restored one archives the same way.
    command -v pgbackrest >/dev/null && cat >>"$data/postgresql.conf" <<CONF
archive_mode = on
archive_command = 'PGPASSFILE=$RUN/pgbackrest/pgpass pgbackrest --config=$RUN/pgbackrest/pgbackrest.conf --stanza=sliceapi archive-push %p'
archive_timeout = 10
CONF
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    local attempt
    for attempt in 1 2; do
      as_pg "$bin/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$data -c max_connections=200 ${SLICEAPI_PG_OPTIONS:-}" start >/dev/null \
        && { ensure_stanza; return; }
      # Once (seen in one CI run, its cause not kept): say why, from PostgreSQL's own log and the port's holder, then retry.
      log "PostgreSQL did not start (attempt $attempt); the end of its log ($data/postgres.log):"
      tail -20 "$data/postgres.log" >&2
      ss -ltnp 2>/dev/null | grep ":$PG_PORT " >&2
      sleep 3
    done
    exit 1
  fi
}

# --- The replicated database (--ha): etcd and two PostgreSQL nodes under Patroni ---------------------------------
node_data() { echo "$RUN/patroni/node$1"; }
node_api() { echo "http://127.0.0.1:$((PATRONI_FIRST_PORT + $1 - 1))"; }
patroni_pid() { pgrep -f -- "python3 [^ ]*patroni $RUN/patroni/node$1.yml\$" | head -1; }
postmaster_pid() { [ -s "$(node_data "$1")/postmaster.pid" ] && head -1 "$(node_data "$1")/postmaster.pid"; }
leader() { # the node that is the primary now (Patroni's /primary answers 200 there), or nothing
  local i
  for i in $(seq 1 "$HA_NODES"); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$(node_api "$i")/primary" || true)" = 200 ] && { echo "$i"; return; }
  done
  return 0
}
sync_standby() { # the node that is the synchronous standby now, or nothing
  local i
  for i in $(seq 1 "$HA_NODES"); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$(node_api "$i")/sync" || true)" = 200 ] && { echo "$i"; return; }
  done
  return 0
}

start_etcd() {
  command -v etcd >/dev/null || { log "etcd is missing (apt-get install etcd-server)"; exit 1; }
  alive "$RUN/etcd.pid" && return
  log "starting etcd on 127.0.0.1:$ETCD_PORT (Patroni's store)"
  mkdir -p "$RUN/etcd" && chmod 700 "$RUN/etcd"
  local peer="http://127.0.0.1:$((ETCD_PORT + 1))"
  setsid etcd --name sliceapi --data-dir "$RUN/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "sliceapi=$peer" >>"$RUN/logs/etcd.log" 2>&1 </dev/null &
  echo $! >"$RUN/etcd.pid"
  wait_ready "http://127.0.0.1:$ETCD_PORT/health" || { tail -20 "$RUN/logs/etcd.log" >&2; exit 1; }
}

# patroni_conf I: node I's configuration, deploy/patroni/patroni.yml with its name, ports, directories and secrets.
patroni_conf() {
  local i=$1 dir="$RUN/patroni" data archive="/bin/true"
  data=$(node_data "$i")
  mkdir -p "$dir/node$i-socket"
  local umask_before; umask_before=$(umask)
  umask 077 # the file holds the database's passwords: never readable by others, not even while it is written
  # The primary archives its WAL into pgBackRest's repository; the node's own data directory, as either may be primary.
  command -v pgbackrest >/dev/null && archive="PGPASSFILE=$RUN/pgbackrest/pgpass pgbackrest --config=$RUN/pgbackrest/pgbackrest.conf --stanza=sliceapi --pg1-path=$data archive-push %p"
  sed -e "s|@NAME@|node$i|g" -e "s|@RESTAPI_PORT@|$((PATRONI_FIRST_PORT + i - 1))|g" -e "s|@ETCD_PORT@|$ETCD_PORT|g" \
    -e "s|@PG_PORT@|$((PG_PORT + i - 1))|g" -e "s|@DATA@|$data|g" -e "s|@BIN@|$(pg_bin)|g" -e "s|@DIR@|$dir|g" \
    -e "s|@DB_PASSWORD@|$(cat "$RUN/secrets/db-password")|g" -e "s|@REPLICATION_PASSWORD@|$(cat "$RUN/secrets/replication-password")|g" \
    -e "s|@ARCHIVE_COMMAND@|$archive|g" "$ROOT/deploy/patroni/patroni.yml" >"$dir/node$i.yml.new"
  if [ -n "${RESTORE_TARGET:-}" ]; then
    # Bootstrapped from the backup instead of initdb (Patroni's custom bootstrap): pgBackRest restores the base backup
    # and writes the recovery settings (replay the archive up to the target, then promote), which Patroni keeps.
    awk -v command="pgbackrest --config=$RUN/pgbackrest/pgbackrest.conf --stanza=sliceapi --pg1-path=$data --type=time --target='$RESTORE_TARGET' --target-action=promote restore" \
      '{ print } $0 == "bootstrap:" { print "  method: pgbackrest"; print "  pgbackrest:"; print "    command: \"" command "\""; print "    no_params: true"; print "    keep_existing_recovery_conf: true" }' \
      "$dir/node$i.yml.new" >"$dir/node$i.yml.restore" && mv "$dir/node$i.yml.restore" "$dir/node$i.yml.new"
  fi
  umask "$umask_before"
  mv "$dir/node$i.yml.new" "$dir/node$i.yml"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
  return 0
}

start_node() { # start_node I: node I's Patroni, which starts (or first creates, or clones) its PostgreSQL
  local i=$1
  [ -n "$(patroni_pid "$i")" ] && return
  patroni_conf "$i"
  log "starting node $i: Patroni on $(node_api "$i"), PostgreSQL on 127.0.0.1:$((PG_PORT + i - 1))"
  as_pg setsid patroni "$RUN/patroni/node$i.yml" >>"$RUN/logs/patroni-node$i.log" 2>&1 </dev/null &
}

# kill_node I [postgres]: SIGKILL to node I's PostgreSQL (the postmaster and every backend) and, unless "postgres",
# its Patroni, at once.
kill_node() {
  local pids="" pm
  [ "${2:-}" = postgres ] || pids=$(patroni_pid "$1")
  pm=$(postmaster_pid "$1" || true)
  [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null && pids+=" $pm $(pgrep -P "$pm" | tr '\n' ' ')"
  [ -n "${pids// /}" ] || { log "node $1 runs nothing to kill"; return 0; }
  log "killing node $1's $([ "${2:-}" = postgres ] || echo "Patroni and ")PostgreSQL (SIGKILL)"
  kill -KILL $pids 2>/dev/null || true
}

start_ha_database() {
  command -v patroni >/dev/null || { log "patroni is missing (apt-get install patroni etcd-server)"; exit 1; }
  [ -n "$(pg_bin)" ] || { log "PostgreSQL's server binaries are missing (apt-get install postgresql)"; exit 1; }
  [ -s "$RUN/secrets/replication-password" ] || openssl rand -hex 24 >"$RUN/secrets/replication-password"
  command -v pgbackrest >/dev/null && pgbackrest_conf
  mkdir -p "$RUN/patroni"
  start_etcd
  local i
  for i in $(seq 1 "$HA_NODES"); do start_node "$i"; done
  # The first node creates the cluster, the other clones it; the instances start once writes are replicated.
  for _ in $(seq 1 240); do
    [ -n "$(leader)" ] && [ -n "$(sync_standby)" ] && break
    sleep 0.5
  done
  [ -n "$(leader)" ] && [ -n "$(sync_standby)" ] \
    || { log "Patroni did not elect a primary with a synchronous standby; its logs:"; tail -20 "$RUN"/logs/patroni-node*.log >&2; exit 1; }
  log "node $(leader) is the primary, node $(sync_standby) its synchronous standby"
  ensure_stanza
}

stop_node() { # stop_node I: SIGTERM to node I's Patroni, which stops its PostgreSQL; SIGKILL after 30 s
  local pid
  pid=$(patroni_pid "$1")
  [ -n "$pid" ] || return 0
  log "stopping node $1 (Patroni stops its PostgreSQL)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# stop_ha_database [--together]: every node, then etcd. The standbys go first, so that stopping the primary does not
# fail over to them; with --together (the data is discarded next) all at once.
stop_ha_database() {
  local leader i pid order=""
  if [ "${1:-}" = --together ]; then
    for i in $(seq 1 "$HA_NODES"); do stop_node "$i" & done
    wait
  else
    leader=$(leader)
    for i in $(seq 1 "$HA_NODES"); do [ "$i" = "$leader" ] || order+="$i "; done
    for i in $order $leader; do stop_node "$i"; done
  fi
  for i in $(seq 1 "$HA_NODES"); do # a PostgreSQL whose Patroni was killed before runs on alone
    if as_pg "$(pg_bin)/pg_ctl" -D "$(node_data "$i")" status >/dev/null 2>&1; then
      as_pg "$(pg_bin)/pg_ctl" -D "$(node_data "$i")" -m fast -w stop >/dev/null || true
    fi
  done
  if alive "$RUN/etcd.pid"; then
    log "stopping etcd"
    pid=$(cat "$RUN/etcd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$RUN/etcd.pid"
  fi
  return 0
}

start_instance() { # start_instance I
  local i=$1 port=$((FIRST_PORT + $1 - 1)) management=$((MANAGEMENT_FIRST_PORT + $1 - 1))
  if alive "$RUN/instance-$i.pid"; then return; fi
  log "starting instance $i on 127.0.0.1:$port (metrics: http://127.0.0.1:$management/metrics)"
  # setsid: the instance outlives this script, in its own process group. The release's own folder, not the app link,
  # so a running instance never loads an assembly of another release when an upgrade moves the link.
  load_app_env
  env "${APP_ENV[@]}" ASPNETCORE_URLS="http://127.0.0.1:$port" Management__Url="http://127.0.0.1:$management" \
    setsid dotnet "$(readlink -f "$RUN/app")/SliceApi.dll" >>"$RUN/logs/instance-$i.log" 2>&1 < /dev/null &
  echo $! >"$RUN/instance-$i.pid"
}

wait_ready() { # wait_ready URL [CURL_ARGS...]
  local url=$1 status=000; shift
  for _ in $(seq 1 120); do
    status=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url" || true)
    [ "$status" = 200 ] && return 0
    sleep 0.5
  done
  log "$url did not answer 200 (last: $status)"
  return 1
}

# Prometheus and Alertmanager from Debian's packages, for the instances the deployment runs ($RUN/instances): the
# configuration files of deploy/prometheus/ with this deployment's ports filled in, data under $RUN/monitoring.
start_monitoring() {
  command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null \
    || { log "Prometheus or Alertmanager is missing (apt-get install prometheus prometheus-alertmanager)"; exit 1; }
  local dir="$RUN/monitoring" targets="" nodes="" count i
  count=$(cat "$RUN/instances")
  mkdir -p "$dir/prometheus-data" "$dir/alertmanager-data"
  for i in $(seq 1 "$count"); do targets+="${targets:+, }\"127.0.0.1:$((MANAGEMENT_FIRST_PORT + i - 1))\""; done
  if ha; then
    for i in $(seq 1 "$HA_NODES"); do nodes+="${nodes:+, }\"127.0.0.1:$((PATRONI_FIRST_PORT + i - 1))\""; done
  fi
  cp "$ROOT/deploy/prometheus/rules.yml" "$dir/rules.yml"
  sed -e "s|@RUN@|$RUN|g" -e "s|@RULES@|$dir/rules.yml|g" -e "s|@ALERTMANAGER_PORT@|$ALERTMANAGER_PORT|g" -e "s|@TARGETS@|$targets|g" \
    -e "s|@PATRONI_TARGETS@|$nodes|g" \
    "$ROOT/deploy/prometheus/prometheus.yml" >"$dir/prometheus.yml"
  sed -e "s|@ALERTMANAGER_PORT@|$ALERTMANAGER_PORT|g" "$ROOT/deploy/prometheus/alertmanager.yml" >"$dir/alertmanager.yml"
  promtool check config "$dir/prometheus.yml" >"$RUN/logs/promtool.log" 2>&1 || { cat "$RUN/logs/promtool.log" >&2; exit 1; }
  if ! alive "$RUN/alertmanager.pid"; then
    log "starting Alertmanager on http://127.0.0.1:$ALERTMANAGER_PORT"
    # --cluster.listen-address= : a single Alertmanager, no gossip port.
    setsid prometheus-alertmanager --config.file="$dir/alertmanager.yml" --storage.path="$dir/alertmanager-data" \
      --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --cluster.listen-address= >>"$RUN/logs/alertmanager.log" 2>&1 </dev/null &
    echo $! >"$RUN/alertmanager.pid"
  fi
  if alive "$RUN/prometheus.pid"; then
    kill -HUP "$(cat "$RUN/prometheus.pid")" # reload: the instance count may have changed
  else
    log "starting Prometheus on http://127.0.0.1:$PROMETHEUS_PORT (scraping $targets${nodes:+ and the database nodes $nodes})"
    setsid prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prometheus-data" \
      --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >>"$RUN/logs/prometheus.log" 2>&1 </dev/null &
    echo $! >"$RUN/prometheus.pid"
  fi
  wait_ready "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" || { tail -20 "$RUN/logs/alertmanager.log" >&2; exit 1; }
  wait_ready "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" || { tail -20 "$RUN/logs/prometheus.log" >&2; exit 1; }
}

stop_monitoring() {
  local name pid
  for name in prometheus alertmanager; do
    alive "$RUN/$name.pid" || continue
    pid=$(cat "$RUN/$name.pid")
    log "stopping $name"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$RUN/$name.pid"
  done
}

alerts() { # the firing alerts Alertmanager holds, one per line
  curl -sf "http://127.0.0.1:$ALERTMANAGER_PORT/api/v2/alerts?active=true&silenced=false&inhibited=false" \
    | python3 -c 'import json, sys
for a in json.load(sys.stdin):
    print(a["labels"].get("alertname"), a["labels"].get("instance", "-"), "since", a["startsAt"], a["annotations"].get("summary", ""))'
}

start() { # start [N] [--ha]
  local count=2 arg
  for arg in "$@"; do
    case "$arg" in
      --ha)
        # A single server's data is not carried over: move it into the cluster with backup and restore, by hand.
        if ! ha && [ -f "$RUN/postgres/PG_VERSION" ]; then
          log "$RUN already holds a single-server database ($RUN/postgres); --ha would start an empty replicated one beside it. Use another SLICEAPI_DEPLOY_DIR"
          exit 2
        fi
        mkdir -p "$RUN"; touch "$RUN/ha" ;;
      *) count=$arg ;;
    esac
  done
  command -v nginx >/dev/null || { log "nginx is missing (apt-get install nginx-light)"; exit 1; }
  mkdir -p "$RUN"/{logs,secrets,tls,nginx-temp}
  chmod 700 "$RUN/secrets"
  [ -s "$RUN/secrets/db-password" ] || openssl rand -hex 24 >"$RUN/secrets/db-password"
  [ -s "$RUN/secrets/jwt-signing-key" ] || openssl rand -base64 48 | tr -d '\n' >"$RUN/secrets/jwt-signing-key"
  [ -s "$RUN/secrets/redis-password" ] || openssl rand -hex 24 >"$RUN/secrets/redis-password"
  if [ ! -s "$RUN/tls/cert.pem" ]; then
    # A self-signed certificate for 127.0.0.1 and localhost; clients pass it as their CA (curl --cacert).
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$RUN/tls/key.pem" -out "$RUN/tls/cert.pem" >"$RUN/logs/openssl.log" 2>&1
  fi

  local release
  release=$(publish_release "${SLICEAPI_RELEASE:-}")
  ln -sfn "$RUN/releases/$release" "$RUN/app"

  if ha; then start_ha_database; else start_postgres; fi
  start_redis
  migrate "$release"

  for i in $(seq 1 "$count"); do start_instance "$i"; done
  for i in $(seq 1 "$count"); do
    wait_ready "http://127.0.0.1:$((FIRST_PORT + i - 1))/health/ready" -H "X-Forwarded-Proto: https" \
      || { tail -20 "$RUN/logs/instance-$i.log"; exit 1; }
  done

  local servers=""
  for i in $(seq 1 "$count"); do
    servers+="        server 127.0.0.1:$((FIRST_PORT + i - 1)) max_fails=1 fail_timeout=${FAIL_TIMEOUT}s;"$'\n'
  done
  sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$NGINX_PORT|g" "$ROOT/deploy/nginx.conf" \
    | awk -v servers="$servers" '{ if ($0 == "@SERVERS@") printf "%s", servers; else print }' >"$RUN/nginx.conf"
  nginx -t -q -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log"
  if alive "$RUN/nginx.pid"; then
    nginx -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" -s reload
  else
    log "starting nginx on https://127.0.0.1:$NGINX_PORT"
    nginx -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log"
  fi
  wait_ready "https://127.0.0.1:$NGINX_PORT/health/ready" --cacert "$RUN/tls/cert.pem"
  echo "$count" >"$RUN/instances"
  [ "${SLICEAPI_MONITOR:-0}" = 1 ] && start_monitoring
  log "ready: https://127.0.0.1:$NGINX_PORT (CA certificate: $RUN/tls/cert.pem)"
  echo "https://127.0.0.1:$NGINX_PORT"
}

stop() {
  stop_monitoring
  if alive "$RUN/nginx.pid"; then
    log "stopping nginx"
    nginx -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" -s quit || true
  fi
  local running=0 pidfile i
  for pidfile in "$RUN"/instance-*.pid; do
    [ -f "$pidfile" ] || continue
    alive "$pidfile" && running=$((running + 1))
    i=${pidfile##*/instance-}
    stop_instance "${i%.pid}" &
  done
  [ "$running" -eq 0 ] || log "stopping $running instance(s)"
  wait
  if alive "$RUN/redis.pid"; then
    log "stopping Redis"
    local redis_pid; redis_pid=$(cat "$RUN/redis.pid")
    kill -TERM "$redis_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  local bin
  bin=$(pg_bin)
  if ha; then
    stop_ha_database
  elif [ -n "$bin" ] && [ -f "$RUN/postgres/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$RUN/postgres" status >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    as_pg "$bin/pg_ctl" -D "$RUN/postgres" -m fast -w stop >/dev/null
  fi
}

status() {
  alive "$RUN/nginx.pid" && echo "nginx: running (https://127.0.0.1:$NGINX_PORT)" || echo "nginx: stopped"
  for pidfile in "$RUN"/instance-*.pid; do
    [ -f "$pidfile" ] || continue
    local i=${pidfile##*/instance-}; i=${i%.pid}
    alive "$pidfile" && echo "instance $i: running (127.0.0.1:$((FIRST_PORT + i - 1)))" || echo "instance $i: stopped"
  done
  alive "$RUN/redis.pid" && echo "redis: running (127.0.0.1:$REDIS_PORT)" || echo "redis: stopped"
  alive "$RUN/prometheus.pid" && echo "prometheus: running (http://127.0.0.1:$PROMETHEUS_PORT)" || echo "prometheus: stopped"
  alive "$RUN/alertmanager.pid" && echo "alertmanager: running (http://127.0.0.1:$ALERTMANAGER_PORT)" || echo "alertmanager: stopped"
  if ha; then
    alive "$RUN/etcd.pid" && echo "etcd: running (127.0.0.1:$ETCD_PORT)" || echo "etcd: stopped"
    nodes
    return
  fi
  local bin; bin=$(pg_bin)
  [ -n "$bin" ] && as_pg "$bin/pg_ctl" -D "$RUN/postgres" status >/dev/null 2>&1 && echo "postgres: running (127.0.0.1:$PG_PORT)" || echo "postgres: stopped"
}

nodes() { # Patroni's list of the nodes, or who runs when etcd does not answer
  local i
  # patronictl asks etcd, and would retry for minutes while it is down.
  alive "$RUN/etcd.pid" && timeout 10 patronictl -c "$RUN/patroni/node1.yml" list 2>/dev/null && return
  for i in $(seq 1 "$HA_NODES"); do
    echo "node $i: Patroni $([ -n "$(patroni_pid "$i")" ] && echo running || echo stopped), PostgreSQL $(as_pg "$(pg_bin)/pg_ctl" -D "$(node_data "$i")" status >/dev/null 2>&1 && echo running || echo stopped)"
  done
}

single_only() { # single_only COMMAND: refuses COMMAND on a replicated (--ha) deployment
  ha || return 0
  log "$1 works on the single-server deployment; this one is replicated (--ha): use node-kill, pg-kill and node-start"
  exit 2
}

restart() { # restart I
  local i=$1 pidfile="$RUN/instance-$1.pid" signalled
  signalled=$(date +%s)
  if alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    log "restarting instance $i (SIGTERM to $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  start_instance "$i"
  wait_ready "http://127.0.0.1:$((FIRST_PORT + i - 1))/health/ready" -H "X-Forwarded-Proto: https" || { tail -20 "$RUN/logs/instance-$i.log"; exit 1; }
  # nginx took the instance out of rotation when it refused its first request while draining, and tries it again
  # FAIL_TIMEOUT seconds after that; until one request succeeded there it still counts as down, so restarting the next
  # instance before then would leave nginx none. Under traffic, wait for that success (in nginx's log); without, go on.
  local back=$((signalled + FAIL_TIMEOUT + 1)) now served
  now=$(date +%s)
  [ "$back" -le "$now" ] || sleep $((back - now))
  served() { grep -c "upstream=127.0.0.1:$((FIRST_PORT + i - 1)) upstream_status=2" "$RUN/nginx-access.log" 2>/dev/null || true; }
  served=$(served)
  for _ in $(seq 1 50); do [ "$(served)" -gt "$served" ] && break; sleep 0.1; done
  log "instance $i is ready again and back in rotation"
}

app() {
  [ -f "$RUN/app/SliceApi.dll" ] || { log "not published yet: run deploy/cluster.sh start first"; exit 1; }
  load_app_env
  env "${APP_ENV[@]}" dotnet "$RUN/app/SliceApi.dll" "$@"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  build) mkdir -p "$RUN/logs"; publish_release "${2:?git ref}" ;;
  upgrade) release=$(publish_release "${2:?git ref}"); migrate "$release"; replace_all "$release" ;;
  rollback) [ -s "$RUN/previous-release" ] || { log "no release to roll back to"; exit 1; }; replace_all "$(cat "$RUN/previous-release")" ;;
  release) current_release ;;
  app) shift; app "$@" ;;
  env) app_env ;;
  monitor) start_monitoring ;;
  backup) backup ;;
  restore) shift; restore "$@" ;;
  backups) pgbr info ;;
  alerts) alerts ;;
  restart) restart "${2:?instance number}" ;;
  kill) alive "$RUN/instance-${2:?instance number}.pid" && { log "killing instance $2 (SIGKILL)"; kill -KILL "$(cat "$RUN/instance-$2.pid")"; } ;;
  pg-stop) single_only pg-stop; as_pg "$(pg_bin)/pg_ctl" -D "$RUN/postgres" -m fast -w stop >/dev/null ;;
  pg-start) single_only pg-start; start_postgres ;;
  nodes) nodes ;;
  leader) leader ;;
  node-kill) kill_node "${2:?node number}" ;;
  pg-kill) kill_node "${2:?node number}" postgres ;;
  node-start) start_node "${2:?node number}" ;;
  etcd-kill) alive "$RUN/etcd.pid" && { log "killing etcd (SIGKILL)"; kill -KILL "$(cat "$RUN/etcd.pid")"; rm -f "$RUN/etcd.pid"; } ;;
  etcd-start) start_etcd ;;
  redis-stop) alive "$RUN/redis.pid" && { kill -KILL "$(cat "$RUN/redis.pid")"; rm -f "$RUN/redis.pid"; } ;;
  redis-start) start_redis ;;
  psql) shift; db_psql "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: deploy/cluster.sh start [N] [--ha] | build REF | upgrade REF | rollback | release | stop | status | restart I | kill I | pg-stop | pg-start | redis-stop | redis-start | psql ARGS... | app ARGS... | env | monitor | alerts | backup | backups | restore --to TIME | nodes | leader | node-kill I | node-start I | pg-kill I | etcd-kill | etcd-start" >&2; exit 2 ;;
esac
