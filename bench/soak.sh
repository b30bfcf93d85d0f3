#!/usr/bin/env bash
# Soak: steady mixed load through nginx on two instances (the deployment of deploy/, as the fault drills start it),
# in consecutive windows, watching for errors, memory growth and latency drift.
#
#   bench/soak.sh [--seconds N] [--window S] [--connections C]     (defaults: 600 s in windows of 30 s, 8 connections)
#
# The load is deploy/faults/mixed.lua (GET /users/me, keyed and unkeyed POST /tasks, in turn) from wrk with 2 threads
# and C connections, closed loop: each connection sends its next request when the last is answered. After each window
# it prints the window's requests/s, p50 and p99 latency and failures (non-2xx or socket errors), and each instance's
# resident set size (RSS, MiB). At the end: the RSS of each instance before the load, after the first window and at
# the end; its growth from the first window to the end (target: under 10 %); the p99 of the last window against the
# first (drift); and every failure. Exits 1 when any request failed (the memory and latency targets are reported, not
# enforced: on a shared machine one noisy window decides them). CI runs it for 60 s in windows of 10 s.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=600
WINDOW=30
CONNECTIONS=8
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_TOTAL=$2; shift 2 ;;
    --window) WINDOW=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
WINDOWS=$(( (SECONDS_TOTAL + WINDOW - 1) / WINDOW ))

# Access tokens outlive the run (the default 15 minutes would end a long soak in 401s).
export DRILL_INSTANCE_ENV="Jwt__AccessTokenLifetimeMinutes=$(( SECONDS_TOTAL / 60 + 30 ))"
# Every statement's count and time per window (pg_stat_statements), to see which one slows as the data grows.
export SLICEAPI_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"
. deploy/faults/common.sh
deploy/cluster.sh psql -qAt -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
statements() { # statements FILE: the statements of the window just ended, by total time, then reset
  deploy/cluster.sh psql -qAt -F ' | ' -c "SELECT calls, round(mean_exec_time::numeric * 1000) AS mean_us, round(total_exec_time::numeric) AS total_ms,
      left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
      ORDER BY total_exec_time DESC LIMIT 10" >"$1"
  deploy/cluster.sh psql -qAt -c "SELECT pg_stat_statements_reset()" >/dev/null
}
TOKEN=$(new_user soak)
export TOKEN
rss_mib() { # rss_mib I: instance I's resident set size in MiB
  awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$(cat "$RUN/instance-$1.pid")/status" 2>/dev/null || echo 0
}
# wrk's latency distribution line "  99%   12.34ms" in milliseconds.
percentile_ms() { # percentile_ms SUMMARY PERCENT
  awk -v p="$2%" '$1 == p {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; print v}' "$1"
}

idle1=$(rss_mib 1); idle2=$(rss_mib 2)
echo "soak: $SECONDS_TOTAL s in $WINDOWS windows of $WINDOW s, wrk -t2 -c$CONNECTIONS, deploy/faults/mixed.lua through nginx ($BASE)"
printf '%-7s %9s %9s %9s %9s %12s %12s\n' window 'req/s' 'p50 ms' 'p99 ms' failures 'RSS 1 MiB' 'RSS 2 MiB'
printf '%-7s %9s %9s %9s %9s %12s %12s\n' idle - - - - "$idle1" "$idle2"
total_requests=0; total_failures=0; first_p99=""; last_p99=""; first1=""; first2=""
for w in $(seq 1 "$WINDOWS"); do
  summary="$RUN/logs/soak-window-$w.txt"
  statements /dev/null
  KEY_PREFIX="soak-$w" wrk -t2 -c"$CONNECTIONS" -d"${WINDOW}s" --timeout 10s --latency -s deploy/faults/mixed.lua "$BASE" >"$summary" 2>&1
  statements "$RUN/logs/soak-statements-$w.txt"
  requests=$(awk '/requests in/ {print $1}' "$summary")
  rate=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$summary")
  p50=$(percentile_ms "$summary" 50); p99=$(percentile_ms "$summary" 99)
  failures=$(wrk_failures "$summary")
  r1=$(rss_mib 1); r2=$(rss_mib 2)
  printf '%-7s %9s %9s %9s %9s %12s %12s\n' "$w" "${rate:-0}" "${p50:-?}" "${p99:-?}" "$failures" "$r1" "$r2"
  total_requests=$((total_requests + ${requests:-0})); total_failures=$((total_failures + failures))
  [ -n "$first_p99" ] || { first_p99=$p99; first1=$r1; first2=$r2; }
  last_p99=$p99
done

echo "the database's statements by total time in window 1 and in window $WINDOWS (calls | mean us | total ms | statement):"
sed 's/^/  first: /' "$RUN/logs/soak-statements-1.txt"
sed 's/^/  last:  /' "$RUN/logs/soak-statements-$WINDOWS.txt"
echo "checkpoints during the soak (PostgreSQL's log):"
grep -E "checkpoint (starting|complete)" "$RUN/postgres/postgres.log" | sed 's/^/  /' | tail -8
deploy/cluster.sh psql -qAt -F ' | ' -c "SELECT relname, pg_size_pretty(pg_total_relation_size(relid)) FROM pg_statio_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 6" | sed 's/^/  size: /'
growth() { awk -v a="$1" -v b="$2" 'BEGIN {if (a > 0) printf "%+.1f %%", (b - a) * 100 / a; else print "?"}'; }
echo "RSS instance 1: idle $idle1 MiB, after window 1 $first1 MiB, at the end $r1 MiB: $(growth "$first1" "$r1") since window 1 (target under +10 %)"
echo "RSS instance 2: idle $idle2 MiB, after window 1 $first2 MiB, at the end $r2 MiB: $(growth "$first2" "$r2") since window 1 (target under +10 %)"
echo "p99: window 1 $first_p99 ms, last window $last_p99 ms: drift $(awk -v a="$first_p99" -v b="$last_p99" 'BEGIN {if (a > 0) printf "%.2f x", b / a; else print "?"}')"
grep -oE '" [0-9]{3} ' "$RUN/nginx-access.log" | sort | uniq -c | sed 's/^/nginx status count: /'
check "failed requests (non-2xx or socket errors) of $total_requests" 0 "$total_failures"
check "5xx in nginx-access.log" 0 "$(grep -cE '" 5[0-9]{2} ' "$RUN/nginx-access.log")"
echo "soak: $total_requests requests in $SECONDS_TOTAL s, $total_failures failed; RSS $idle1/$idle2 MiB idle, $r1/$r2 MiB at the end; $failed failed checks"
[ "$failed" -eq 0 ]
