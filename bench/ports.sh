#!/bin/bash
# Benchmark of listing listening sockets with their owners, in one run on
# this machine, with N listening TCP sockets held by one helper process
# (bench/hold_sockets.py; default N = 3000):
#
#   ss -ltnp                        (sock_diag + /proc/*/fd walk): the yardstick
#   steward ports                   the table, as a user runs it: the CLI over
#   steward --json ports            stewardd's unix socket, stdout to a file
#   steward -H … ports              the same over TLS (a token, the pinned
#   steward -H … --json ports       certificate), the answer ~1 MB of JSON
#   lsof -nP -iTCP -sTCP:LISTEN     (/proc walk + /proc/net parsing), for scale
#   bench/ports-enum                (sockets_list + procmap_build, the module's
#                                   enumeration alone, built here with -O2)
#
# stewardd is the release build (BUILD_DIR, default build/), started here
# over a scratch state directory.  Every command's mean wall time (hyperfine
# when installed, else RUNS runs timed with date +%s%N) is measured ROUNDS
# times, the commands taking turns inside a round so that the machine's
# load falls on all alike; printed: the means and the ratios command/ss
# (goal <= 1.00x for the four steward lines).  Each tool's output goes to a
# file; the table's and the JSON's listener counts are checked once.
# Timings here are noisy: compare only numbers from the same run.
#
# Usage: bench/ports.sh [N ...]   (root, to see every process's sockets)
#   env: BUILD_DIR (default build), RUNS (default 10), ROUNDS (default 3)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
BUILD=${BUILD_DIR:-build}
[ "${BUILD#/}" != "$BUILD" ] || BUILD="$ROOT/$BUILD"
RUNS=${RUNS:-10}
ROUNDS=${ROUNDS:-3}
W=$(mktemp -d /tmp/steward-ports-bench.XXXXXX)
HOLDER=
DAEMON=
cleanup() {
  [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  exec 3>&- 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(3000)

[ -x "$BUILD/stewardd" ] && [ -x "$BUILD/steward" ] ||
  { echo "no stewardd/steward in $BUILD: make build" >&2; exit 1; }
command -v lsof >/dev/null || { echo "lsof missing: scripts/install-deps.sh bench" >&2; exit 1; }

# The driver, built by hand against the module's sources, optimized as the
# release build is.
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
  -Wno-missing-field-initializers -I "$ROOT/src/common" -I "$ROOT/src/modules" -I "$ROOT/src" \
  "$ROOT/bench/ports-enum.c" "$ROOT/src/common/sockets.c" "$ROOT/src/common/procfs.c" \
  "$ROOT/src/modules/ports/procmap.c" "$ROOT/src/common/util.c" -o "$W/ports-enum"

chmod 755 "$W"
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BUILD/stewardd" --foreground --listen "127.0.0.1:$PORT" --udp off --socket "$W/s.sock" \
  --state-dir "$W/state" --tls-dir "$W/tls" --config "$W/stewardd.conf" 2>"$W/stewardd.log" &
DAEMON=$!
for _ in $(seq 200); do [ -S "$W/s.sock" ] && [ -s "$W/tls/cert.pem" ] && break; sleep 0.05; done
# The CLI's own files (pins, sessions) in a scratch home.
export HOME="$W/home" XDG_CONFIG_HOME="$W/home/.config"
mkdir -p "$HOME"
S="$BUILD/steward --socket $W/s.sock"
TOKEN=$($S --json token create ports-bench --role monitor |
  $PY -c 'import json, sys; print(json.load(sys.stdin)["token"])')
FP=$(openssl x509 -in "$W/tls/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
export STEWARD_TOKEN="$TOKEN" STEWARD_FINGERPRINT="SHA256:$FP"
H="$BUILD/steward -H 127.0.0.1:$PORT"

have_hyperfine=false
command -v hyperfine >/dev/null && have_hyperfine=true

# Mean wall time of a command in milliseconds, its output to a file.
mean_ms() {
  if $have_hyperfine; then
    hyperfine -N --warmup 2 --runs "$RUNS" --output "$W/out.txt" --export-json "$W/h.json" \
      "$1" >/dev/null 2>&1
    $PY -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$W/h.json"
  else
    local t0 t1
    bash -c "$1" >"$W/out.txt" 2>/dev/null || true
    t0=$(date +%s%N)
    for _ in $(seq "$RUNS"); do bash -c "$1" >"$W/out.txt" 2>/dev/null || true; done
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" -v n="$RUNS" 'BEGIN {printf "%.2f", (b - a) / n / 1e6}'
  fi
}

NAMES=("ss -ltnp" "steward ports" "steward --json ports" "steward -H ports"
  "steward -H --json ports" "lsof" "ports-enum")
CMDS=("ss -ltnp" "$S ports" "$S --json ports" "$H ports" "$H --json ports"
  "lsof -nP -iTCP -sTCP:LISTEN" "$W/ports-enum")

for n in "${SIZES[@]}"; do
  mkfifo "$W/in.$n"
  $PY "$ROOT/bench/hold_sockets.py" "$n" <"$W/in.$n" >"$W/holder.$n" &
  HOLDER=$!
  exec 3>"$W/in.$n"
  until grep -q ready "$W/holder.$n" 2>/dev/null; do
    kill -0 "$HOLDER" 2>/dev/null || { echo "hold_sockets.py failed" >&2; exit 1; }
    sleep 0.05
  done

  # Every side sees the holder's sockets.
  got=$("$W/ports-enum")
  [ "${got%% sockets*}" -ge "$n" ] || { echo "ports-enum saw $got, expected >= $n" >&2; exit 1; }
  rows=$($S ports | grep -c '^tcp ')
  [ "$rows" -ge "$n" ] || { echo "steward ports printed $rows rows, expected >= $n" >&2; exit 1; }
  objs=$($H --json ports | $PY -c 'import json, sys; print(len(json.load(sys.stdin)["listeners"]))')
  [ "$objs" -ge "$n" ] || { echo "steward --json ports gave $objs listeners" >&2; exit 1; }
  bytes=$($S --json ports | wc -c)

  echo "== N = $n listening sockets: mean of $RUNS runs ($($have_hyperfine && echo hyperfine || echo 'date loop')), $ROUNDS rounds; the JSON is $bytes bytes =="
  printf "%-26s" "command"
  for r in $(seq "$ROUNDS"); do printf " %10s %8s" "round$r/ms" "x ss"; done
  echo
  declare -A T=()
  for r in $(seq "$ROUNDS"); do
    for i in "${!CMDS[@]}"; do T[$r,$i]=$(mean_ms "${CMDS[$i]}"); done
  done
  for i in "${!CMDS[@]}"; do
    printf "%-26s" "${NAMES[$i]}"
    for r in $(seq "$ROUNDS"); do
      printf " %10s %8s" "${T[$r,$i]}" \
        "$(awk -v a="${T[$r,$i]}" -v b="${T[$r,0]}" 'BEGIN {printf "%.2fx", a / b}')"
    done
    echo
  done
  echo "(ports-enum: $got; steward ports: $rows rows; steward --json ports: $objs listeners)"

  exec 3>&-
  wait "$HOLDER" || true
  HOLDER=
done
