#!/bin/bash
# Memory per connection: N authenticated TLS keep-alive connections to one
# stewardd on loopback, each after one request (GET /api/v1/whoami) and then
# idle, and N event streams (GET /api/v1/events, samples only, read by the
# client).  Reported: the proportional set size (Pss, smaps_rollup) of the
# helper plus the front before and with the connections open, and the delta
# per connection.  Kernel socket buffers are not in Pss (nor in RSS): they are
# the kernel's, counted in /proc/net/sockstat, not here.
#
# With a second build directory BASE, the same measurements run on both
# builds in the same run, one after the other, and the ratios are printed.
#
# Usage: bench/idle-conns.sh [BUILD] [N] [BASE]     (defaults: build 500)
#        MODES="idle events" selects the measurements (default both);
#        TRANSPORT=unix measures the local socket instead (plain HTTP, the
#        peer's uid for identity): the difference with tls is TLS's part.
set -euo pipefail

BUILD=${1:-build}
N=${2:-500}
BASE=${3:-}
MODES=${MODES:-idle events}
TRANSPORT=${TRANSPORT:-tls}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
PY=/usr/bin/python3
for b in "$BUILD" $BASE; do
  [ -x "$ROOT/$b/stewardd" ] || [ -x "$b/stewardd" ] ||
    { echo "no $b/stewardd: build it first (make build)" >&2; exit 1; }
done

# Every connection is a descriptor on both ends (client and front).
ulimit -n $(( N * 2 + 1024 )) 2>/dev/null || ulimit -Sn "$(ulimit -Hn)"

W=$(mktemp -d /tmp/steward-idle-bench.XXXXXX)
chmod 755 "$W"
SPID=''
CPID=''
cleanup() {
  set +e
  [ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

pss() { # kB of Pss of helper + front
  local p=0 pid
  for pid in "$SPID" "$FRONT"; do
    p=$(( p + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup") ))
  done
  echo "$p"
}

# measure BUILD_DIR MODE -> prints "before_kB with_kB per_conn_bytes"
measure() {
  local dir=$1 mode=$2 d
  d=$(mktemp -d "$W/run.XXXXXX")
  chmod 755 "$d"
  local stewardd=$dir/stewardd
  [ -x "$stewardd" ] || stewardd=$ROOT/$dir/stewardd
  local sp
  sp=$(free_port)
  cat > "$d/stewardd.conf" <<CONF
log_level = "warning"
limits:idle_timeout = 3600
limits:max_connections = $(( N + 64 ))
limits:max_connections_per_ip = $(( N + 64 ))
limits:max_event_subscribers = $(( N + 64 ))
limits:max_unauthenticated_connections = $(( N + 64 ))
limits:max_unauthenticated_per_source = $(( N + 64 ))
limits:max_local_connections_per_uid = $(( N + 64 ))
CONF
  start_stewardd "$stewardd" "$d" "$sp"
  wait_answering "$d" "$sp"
  local token
  token=$(bootstrap_login "$d" "$sp")
  FRONT=$(front_pid "$SPID")
  # Warm up: one connection's worth of every lazily made thing, then settle.
  curl -sf -o /dev/null --cacert "$d/tls/cert.pem" -H "Authorization: Bearer $token" \
    https://127.0.0.1:"$sp"/api/v1/whoami
  sleep 1
  local before with
  before=$(pss)
  local host=127.0.0.1
  [ "$TRANSPORT" = unix ] && host=$d/s.sock
  coproc CLIENT { exec $PY "$ROOT/bench/idle_conns.py" "$mode" "$host" "$sp" \
    "$d/tls/cert.pem" "$token" "$N"; }
  CPID=$CLIENT_PID
  local line=''
  read -r line <&"${CLIENT[0]}" || true
  [ "$line" = ready ] || { echo "the client failed (see above); daemon log:" >&2;
                           tail -5 "$d/stewardd.log" >&2; exit 1; }
  sleep 5 # settled: the reaper trims the heap a second or two after a burst
  with=$(pss)
  eval "exec ${CLIENT[1]}>&-"
  wait "$CPID" || true
  CPID=''
  kill "$SPID"
  wait "$SPID" || true
  SPID=''
  echo "$before $with $(( (with - before) * 1024 / N ))"
}

echo "== $N authenticated connections ($TRANSPORT) on loopback: Pss of helper + front (kB) =="
printf "%-8s %-24s %10s %10s %14s\n" mode build before with "per conn (B)"
for mode in $MODES; do
  declare -A per=()
  for b in "$BUILD" $BASE; do
    read -r before with one <<<"$(measure "$b" "$mode")"
    per[$b]=$one
    printf "%-8s %-24s %10s %10s %14s\n" "$mode" "$b" "$before" "$with" "$one"
  done
  if [ -n "$BASE" ]; then
    awk -v a="${per[$BUILD]}" -v b="${per[$BASE]}" -v m="$mode" \
      'BEGIN {printf "%-8s ratio %s/base per connection: %.2f\n", m, "build", a / b}'
  fi
  unset per
done
