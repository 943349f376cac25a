#!/bin/bash
# What the sampler costs on an idle machine: stewardd (release build) runs
# for DURATION seconds with no client at all and the default 1 s interval,
# and the CPU time each process and each thread of the front used in that
# time is read from /proc (schedstat: nanoseconds of run time).  Reported as
# percent of one core:
#   sampler         the sampling thread (13 series from 5 /proc files a second)
#   history-writer  hands each completed minute to the helper
#   events          the front's poll of the helper's counters (every 5 s)
#   front           every thread of the front (the above, libmicrohttpd, main)
#   helper          the privileged process (stores a minute a minute, answers polls)
# The issue's goal: the sampler under 0.2 % of one core.
# Usage: bench/sampler.sh [BUILD_DIR] [DURATION_SECONDS]   (default: build 600)
set -euo pipefail

BUILD=${1:-build}
DURATION=${2:-600}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
STEWARDD=$ROOT/$BUILD/stewardd
PY=/usr/bin/python3
[ -x "$STEWARDD" ] || { echo "no $STEWARDD: build it first (make build)" >&2; exit 1; }

W=$(mktemp -d /tmp/steward-sampler-bench.XXXXXX)
chmod 755 "$W"
SPID=''
cleanup() {
  set +e
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

SP=$(free_port)
echo 'log_level = "warning"' > "$W/stewardd.conf"
start_stewardd "$STEWARDD" "$W" "$SP"
sleep 5 # start-up (key generation) is not the sampler's cost
FRONT=$(front_pid "$SPID")

# "name ns" for every thread of the front, plus "front" and "helper" totals.
snapshot() {
  for t in /proc/"$FRONT"/task/*; do
    printf '%s %s\n' "$(cat "$t/comm")" "$(awk '{print $1}' "$t/schedstat")"
  done
  printf 'front %s\n' "$(cat /proc/"$FRONT"/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}')"
  printf 'helper %s\n' "$(cat /proc/"$SPID"/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}')"
}

snapshot > "$W/before"
t0=$(date +%s.%N)
sleep "$DURATION"
t1=$(date +%s.%N)
snapshot > "$W/after"

echo "== stewardd idle for $DURATION s, metrics:interval = 1 s: CPU in percent of one core =="
$PY - "$W/before" "$W/after" "$t0" "$t1" <<'PYEOF'
import sys
def load(p):
    d = {}
    for line in open(p):
        name, ns = line.rsplit(" ", 1)
        d[name] = d.get(name, 0) + int(ns)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
secs = float(sys.argv[4]) - float(sys.argv[3])
for name in ("sampler", "history-writer", "events", "front", "helper"):
    if name in a and name in b:
        ns = b[name] - a[name]
        print(f"{name:16s} {ns / 1e9 / secs * 100:8.4f} %   ({ns / 1e6:.1f} ms CPU in {secs:.0f} s)")
PYEOF
