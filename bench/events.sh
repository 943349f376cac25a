#!/bin/bash
# The event stream at scale: N concurrent subscribers (GET /api/v1/events,
# samples only) to one stewardd over TLS on loopback (release build).
# Reported:
#   memory   VmRSS and Pss of the helper and the front, idle and with every
#            stream open (Pss shares the pages the two processes have in
#            common — the libraries — between them)
#   delay    of each sample event: read by the client minus the moment the
#            sampler took it, p50/p99/max over every stream and SAMPLES
#            samples (bench/events-client.py; one Python process reads all
#            the streams, so this is an upper bound)
# Usage: bench/events.sh [BUILD_DIR] [N] [SAMPLES]       (defaults: build 1000 10)
set -euo pipefail

BUILD=${1:-build}
N=${2:-1000}
SAMPLES=${3:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
STEWARDD=$ROOT/$BUILD/stewardd
PY=/usr/bin/python3
[ -x "$STEWARDD" ] || { echo "no $STEWARDD: build it first (make build)" >&2; exit 1; }

# Every stream is a descriptor on both ends.
ulimit -n $(( N * 2 + 1024 )) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

W=$(mktemp -d /tmp/steward-events-bench.XXXXXX)
chmod 755 "$W"
SPID=''
cleanup() {
  set +e
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

SP=$(free_port)
cat > "$W/stewardd.conf" <<CONF
log_level = "warning"
limits:max_connections_per_ip = $(( N + 64 ))
limits:max_event_subscribers = $(( N + 64 ))
limits:max_unauthenticated_connections = $(( N + 64 ))
limits:max_unauthenticated_per_source = $(( N + 64 ))
CONF
start_stewardd "$STEWARDD" "$W" "$SP"
wait_answering "$W" "$SP"
TOKEN=$(bootstrap_login "$W" "$SP")
FRONT=$(front_pid "$SPID")

mem() { # "rss_kB pss_kB" of helper + front
  local r=0 p=0
  for pid in "$SPID" "$FRONT"; do
    r=$(( r + $(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup") ))
    p=$(( p + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup") ))
  done
  echo "$r $p"
}

sleep 2
read -r idle_rss idle_pss <<<"$(mem)"
$PY "$ROOT/bench/events-client.py" 127.0.0.1 "$SP" "$W/tls/cert.pem" "$TOKEN" "$N" "$SAMPLES" \
  "$W/ready" > "$W/result.json" &
CPID=$!
while [ ! -e "$W/ready" ]; do kill -0 "$CPID" 2>/dev/null || break; sleep 0.2; done
sleep 1
read -r busy_rss busy_pss <<<"$(mem)"
threads=$(ls "/proc/$FRONT/task" | wc -l)
wait "$CPID"
dropped=$(grep -c "read too slowly" "$W/stewardd.log" || true)

echo "== $N event streams (samples only) over TLS on loopback, $SAMPLES samples each =="
printf "%-34s %10s %10s\n" "" "RSS/kB" "PSS/kB"
printf "%-34s %10s %10s\n" "stewardd idle (helper + front)" "$idle_rss" "$idle_pss"
printf "%-34s %10s %10s\n" "stewardd with $N streams" "$busy_rss" "$busy_pss"
awk -v a="$busy_rss" -v b="$idle_rss" -v n="$N" 'BEGIN {printf "per stream: %.1f kB (RSS)\n", (a - b) / n}'
echo "front threads: $threads; streams dropped as too slow: $dropped"
$PY - "$W/result.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"delivery delay (sampled → read by the client): p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
      f"max {r['max_ms']} ms over {r['events']} events on {r['streams']} streams")
PYEOF
