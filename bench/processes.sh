#!/bin/bash
# The processes module against ps, in one run on this machine, with N extra
# processes (default 2000 `sleep` children of one Python script):
#   ps -eo pid,ppid,user,pcpu,rss,comm          procps: /proc/PID/stat, status…
#   GET /api/v1/processes                       stewardd over its local socket
#                                               (curl): every process, JSON
#   GET /api/v1/processes?sort=cpu&limit=10     the top ten
#   steward --json ps                           the CLI's whole path
# mean wall times (hyperfine when installed, else a date loop) and the
# ratios to ps; the CPU time of a listing in the front against ps's own
# (what other load on the machine moves least); then what the `processes` event costs: with one stream
# subscribed for DURATION seconds, the CPU time of the front's sampler thread
# (which reads every /proc/PID/stat once a second and builds the top ten)
# and of the whole front, from /proc schedstat, in percent of one core.
# The issue's goal: the list within 1.0x ps, the 1-s top-N event under 1 %.
# Usage: bench/processes.sh [BUILD_DIR] [N] [DURATION_SECONDS]
#        (default: build 2000 30; run as root)
set -euo pipefail

BUILD=${1:-build}
N=${2:-2000}
DURATION=${3:-30}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
STEWARDD=$ROOT/$BUILD/stewardd
STEWARD=$ROOT/$BUILD/steward
PY=/usr/bin/python3
RUNS=20
[ -x "$STEWARDD" ] || { echo "no $STEWARDD: build it first (make build)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl missing: scripts/install-deps.sh bench" >&2; exit 1; }

W=$(mktemp -d /tmp/steward-procs-bench.XXXXXX)
chmod 755 "$W"
SPID='' KIDS='' STREAM=''
cleanup() {
  set +e
  [ -n "$STREAM" ] && kill "$STREAM" 2>/dev/null && wait "$STREAM" 2>/dev/null
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  [ -n "$KIDS" ] && kill "$KIDS" 2>/dev/null && wait "$KIDS" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

# N sleepers, children of one script that kills them when it is killed.
$PY - "$N" >"$W/kids.out" <<'PYEOF' &
import signal, subprocess, sys, time
kids = [subprocess.Popen(["sleep", "3600"]) for _ in range(int(sys.argv[1]))]
def stop(*_):
    for k in kids:
        k.kill()
    for k in kids:
        k.wait()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    time.sleep(3600)
PYEOF
KIDS=$!
until grep -q ready "$W/kids.out" 2>/dev/null; do
  kill -0 "$KIDS" 2>/dev/null || { echo "the sleepers did not start" >&2; exit 1; }
  sleep 0.1
done

SP=$(free_port)
echo 'log_level = "warning"' > "$W/stewardd.conf"
start_stewardd "$STEWARDD" "$W" "$SP"
for _ in $(seq 200); do [ -S "$W/s.sock" ] && break; sleep 0.05; done
sleep 2
FRONT=$(front_pid "$SPID")
API="curl -sf --unix-socket $W/s.sock"

# The front's threads by name ("sampler": the kit's sampler thread, which
# runs the metrics history's hook too) and the front in all.
snapshot() {
  for t in /proc/"$FRONT"/task/*; do
    printf '%s %s\n' "$(cat "$t/comm")" "$(awk '{print $1}' "$t/schedstat")"
  done
  printf 'front %s\n' "$(cat /proc/"$FRONT"/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}')"
}
report() {
  $PY - "$W/before" "$W/after" "$1" "$2" <<'PYEOF'
import sys
def load(p):
    d = {}
    for line in open(p):
        name, ns = line.rsplit(" ", 1)
        d[name] = d.get(name, 0) + int(ns)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
secs = float(sys.argv[4]) - float(sys.argv[3])
for name in ("sampler", "events", "front"):
    if name in a and name in b:
        ns = b[name] - a[name]
        print(f"{name:10s} {ns / 1e9 / secs * 100:8.3f} % of one core  ({ns / 1e6:.1f} ms CPU in {secs:.0f} s)")
PYEOF
}

# First, before any listing wants CPU figures: the sampler without the
# processes module's work (the metrics history alone), as the baseline.
snapshot >"$W/before"
t0=$(date +%s.%N)
sleep "$DURATION"
t1=$(date +%s.%N)
snapshot >"$W/after"
echo "== idle, no listing and no stream, $DURATION s: the baseline =="
report "$t0" "$t1"

TOTAL=$(ls -d /proc/[0-9]* | wc -l)
LISTED=$($API http://localhost/api/v1/processes | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["processes"]))')
echo "processes on the machine: $TOTAL; listed by stewardd: $LISTED"

have_hyperfine=false
command -v hyperfine >/dev/null && have_hyperfine=true
mean_ms() {
  if $have_hyperfine; then
    hyperfine -N --warmup 3 --runs $RUNS --export-json "$W/h.json" "$1" >/dev/null 2>&1
    $PY -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$W/h.json"
  else
    local t0 t1
    t0=$(date +%s%N)
    for _ in $(seq $RUNS); do $1 >/dev/null 2>&1 || true; done
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" -v n=$RUNS 'BEGIN {printf "%.2f", (b - a) / n / 1e6}'
  fi
}

echo "== a listing of every process, mean of $RUNS runs ($($have_hyperfine && echo hyperfine || echo 'date loop')) =="
PS=$(mean_ms "ps -eo pid,ppid,user,pcpu,rss,comm")
ALL=$(mean_ms "$API http://localhost/api/v1/processes")
TOP=$(mean_ms "$API http://localhost/api/v1/processes?sort=cpu&limit=10")
PSTOP=$(mean_ms "ps -eo pid,ppid,user,pcpu,rss,comm --sort=-pcpu")
printf "%-44s %9s ms\n" "ps -eo pid,ppid,user,pcpu,rss,comm" "$PS"
printf "%-44s %9s ms   %5.2fx ps\n" "GET /api/v1/processes (curl)" "$ALL" "$(echo "$ALL / $PS" | bc -l)"
printf "%-44s %9s ms\n" "ps … --sort=-pcpu" "$PSTOP"
printf "%-44s %9s ms   %5.2fx ps --sort\n" "GET /api/v1/processes?sort=cpu&limit=10" "$TOP" \
  "$(echo "$TOP / $PSTOP" | bc -l)"
if [ -x "$STEWARD" ]; then
  CLI=$(mean_ms "$STEWARD --socket $W/s.sock --json ps")
  printf "%-44s %9s ms   %5.2fx ps\n" "steward --json ps" "$CLI" "$(echo "$CLI / $PS" | bc -l)"
fi

# CPU rather than wall time (other load on the machine moves wall times):
# the front's CPU per listing (schedstat of all its threads) against ps's own.
fcpu() { cat /proc/"$FRONT"/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}'; }
a=$(fcpu)
for _ in $(seq $RUNS); do $API http://localhost/api/v1/processes >/dev/null; done
b=$(fcpu)
FRONT_US=$(( (b - a) / RUNS / 1000 ))
PS_US=$($PY - "$RUNS" <<'PYEOF'
import resource, subprocess, sys
n = int(sys.argv[1])
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
for _ in range(n):
    subprocess.run(["ps", "-eo", "pid,ppid,user,pcpu,rss,comm"], stdout=subprocess.DEVNULL)
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int(((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) / n * 1e6))
PYEOF
)
echo "== CPU per listing =="
printf "%-44s %9s us\n" "ps -eo pid,ppid,user,pcpu,rss,comm" "$PS_US"
printf "%-44s %9s us   %5.2fx ps\n" "stewardd's front, GET /api/v1/processes" "$FRONT_US" \
  "$(echo "$FRONT_US / $PS_US" | bc -l)"

curl -sN --unix-socket "$W/s.sock" "http://localhost/api/v1/events?types=processes" >"$W/events" &
STREAM=$!
sleep 3 # the first two ticks
snapshot >"$W/before"
t0=$(date +%s.%N)
sleep "$DURATION"
t1=$(date +%s.%N)
snapshot >"$W/after"
EVENTS=$(grep -c '^event: processes' "$W/events" || true)
echo "== the processes event, one stream, $DURATION s ($EVENTS events received) =="
report "$t0" "$t1"
