#!/bin/bash
# Side-by-side benchmark of a metrics scrape, in one run on this machine:
#   stewardd       GET /metrics over TLS, a monitor token (release build)
#   node_exporter  GET /metrics over plain HTTP, its default collectors
# Each is scraped N times by one curl over one keep-alive connection (a
# config file with N URLs), without compression (Prometheus asks for gzip,
# which would cost node_exporter more).  Reported per scrape:
#   CPU     of the serving process: the utime+stime delta of /proc/PID/stat
#           (clock ticks: coarse for small N) and the sum of its threads'
#           run time from /proc/PID/task/*/schedstat (nanoseconds);
#           for stewardd that is the front, the daemon's child, and in a
#           column of its own the front and the helper together (the
#           helper answers the other modules' gauges, steward_alerts_*
#           and steward_mail_*, at each scrape); all threads of each
#           process count, node_exporter's Go runtime (GC) included
#   latency p50 and p99 of curl's time_total
#   memory  VmRSS after the run: stewardd front + helper, node_exporter
# and the ratios node_exporter / stewardd.  Timings here are noisy: compare
# only numbers from the same run.
# Usage: bench/metrics.sh [BUILD_DIR] [N]      (needs scripts/install-deps.sh bench)
set -euo pipefail

BUILD=${1:-build}
N=${2:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
STEWARDD=$ROOT/$BUILD/stewardd
PY=/usr/bin/python3
NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -x "$STEWARDD" ] || { echo "no $STEWARDD: build it first (make build)" >&2; exit 1; }
[ -n "$NODE_EXPORTER" ] || { echo "node_exporter missing: scripts/install-deps.sh bench" >&2; exit 1; }

W=$(mktemp -d /tmp/steward-metrics-bench.XXXXXX)
chmod 755 "$W" # the unprivileged front reads the config file in it
SPID='' NEPID=''
cleanup() {
  set +e
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  [ -n "$NEPID" ] && kill "$NEPID" 2>/dev/null && wait "$NEPID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

SP=$(free_port); NP=$(free_port)

cat > "$W/stewardd.conf" <<CONF
log_level = "warning"
CONF
start_stewardd "$STEWARDD" "$W" "$SP"
"$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$NP" >"$W/node_exporter.log" 2>&1 &
NEPID=$!

answered() { [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/tls/cert.pem" \
                 https://127.0.0.1:"$SP"/metrics 2>/dev/null)" != 000 ]; }
for _ in $(seq 500); do [ -s "$W/tls/cert.pem" ] && answered && break; sleep 0.02; done
for _ in $(seq 500); do curl -sf -o /dev/null http://127.0.0.1:"$NP"/metrics && break; sleep 0.02; done

# An admin session from the one-time bootstrap token, then a monitor token,
# which is what a Prometheus server would hold.
ADMIN=$(bootstrap_login "$W" "$SP")
TOKEN=$(curl -sf --cacert "$W/tls/cert.pem" -H "Authorization: Bearer $ADMIN" \
  -H 'Content-Type: application/json' -d '{"name": "bench", "role": "monitor"}' \
  https://127.0.0.1:"$SP"/api/v1/tokens | $PY -c 'import json,sys; print(json.load(sys.stdin)["token"])')
FRONT=$(front_pid "$SPID")

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run_ns PID…: the run time of all their threads
run_ns() { for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done | awk '{s += $1} END {printf "%.0f", s}'; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)

# N transfers of one URL, each to /dev/null, over one connection.
curl_config() {
  for _ in $(seq "$N"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$1"; done > "$2"
}

# bench NAME PID OTHER_PID URL [curl options…]: prints "cpu_ticks_ms cpu_ns_ms
# p50_ms p99_ms connects cpu_ns_ms_with_other" (OTHER_PID "" for none)
bench() {
  local name=$1 pid=$2 other=$3 url=$4
  shift 4
  curl_config "$url" "$W/$name.curl"
  curl -s "$@" -K "$W/$name.curl" -o /dev/null >/dev/null # warm-up: N scrapes
  local t0 n0 t1 n1 o0 o1
  t0=$(ticks "$pid"); n0=$(run_ns "$pid"); o0=$(run_ns $other)
  curl -s "$@" -K "$W/$name.curl" -w '%{time_total} %{http_code} %{num_connects}\n' > "$W/$name.times"
  t1=$(ticks "$pid"); n1=$(run_ns "$pid"); o1=$(run_ns $other)
  $PY - "$W/$name.times" "$N" "$HZ" "$t0" "$t1" "$n0" "$n1" "$o0" "$o1" <<'PYEOF'
import sys
path, n, hz, t0, t1, n0, n1, o0, o1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(int, sys.argv[4:])
rows = [l.split() for l in open(path) if l.strip()]
codes = {r[1] for r in rows}
assert codes == {"200"}, f"status codes {codes}"
connects = sum(int(r[2]) for r in rows)
lat = sorted(float(r[0]) * 1000 for r in rows)
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"{(t1 - t0) * 1000 / hz / n:.3f} {(n1 - n0) / 1e6 / n:.3f} {q(0.5):.3f} {q(0.99):.3f} {connects} "
      f"{(n1 - n0 + o1 - o0) / 1e6 / n:.3f}")
PYEOF
}

S=$(bench stewardd "$FRONT" "$SPID" "https://127.0.0.1:$SP/metrics" --cacert "$W/tls/cert.pem" \
      -H "Authorization: Bearer $TOKEN")
E=$(bench node_exporter "$NEPID" "" "http://127.0.0.1:$NP/metrics")
read -r s_tick s_ns s_p50 s_p99 s_conn s_all <<<"$S"
read -r e_tick e_ns e_p50 e_p99 e_conn e_all <<<"$E"

s_rss=$(( $(rss "$SPID") + $(rss "$FRONT") ))
e_rss=$(rss "$NEPID")
curl -s --cacert "$W/tls/cert.pem" -H "Authorization: Bearer $TOKEN" https://127.0.0.1:"$SP"/metrics > "$W/s.txt"
curl -s http://127.0.0.1:"$NP"/metrics > "$W/e.txt"
series() { grep -vc '^#' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.1fx", a / b; else print "n/a"}'; }

echo "== one scrape, mean of $N over one keep-alive connection (connections opened: stewardd $s_conn, node_exporter $e_conn) =="
printf "%-16s %14s %14s %15s %9s %9s %10s %8s %9s\n" "" "CPU/ms(ticks)" "CPU/ms(sched)" "+helper(sched)" "p50/ms" "p99/ms" "RSS/kB" "series" "bytes"
printf "%-16s %14s %14s %15s %9s %9s %10s %8s %9s\n" "stewardd (TLS)" "$s_tick" "$s_ns" "$s_all" "$s_p50" "$s_p99" "$s_rss" \
  "$(series "$W/s.txt")" "$(wc -c < "$W/s.txt")"
printf "%-16s %14s %14s %15s %9s %9s %10s %8s %9s\n" "node_exporter" "$e_tick" "$e_ns" "$e_all" "$e_p50" "$e_p99" "$e_rss" \
  "$(series "$W/e.txt")" "$(wc -c < "$W/e.txt")"
echo "ratios node_exporter/stewardd: CPU $(ratio "$e_ns" "$s_ns") (with the helper $(ratio "$e_all" "$s_all"), ticks $(ratio "$e_tick" "$s_tick")), p50 $(ratio "$e_p50" "$s_p50"), p99 $(ratio "$e_p99" "$s_p99"), RSS $(ratio "$e_rss" "$s_rss")"
echo "(stewardd RSS is the front and the helper together; node_exporter's is one process)"
