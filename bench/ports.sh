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
# over a scratch state directory.  Every command runs RUNS times a round,
# ROUNDS rounds, the commands taking turns run by run so that the machine's
# load falls on all alike; printed: the mean wall times and the ratios
# command/ss (goal <= 1.00x for the four steward lines).  Each tool's output goes to a
# file; the table's and the JSON's listener counts are checked once.
# Timings here are noisy: compare only numbers from the same run.
#
# With BASELINE_DIR (a release build of the code before), a second daemon of
# that build runs too and its four steward lines are measured in the same
# rounds ("before: …").
#
# Measured (2 cores, Debian 12, a machine shared with other work, N = 3000,
# 3 rounds): steward ports 0.67x ss, steward --json ports 0.59-0.62x, over
# TLS 0.70-0.75x and 0.66-0.67x; the code before, in the same rounds,
# 0.93-0.96x, 0.97-1.03x, 1.00-1.03x and 1.03-1.11x.  ss's /proc walk grows
# with the machine's processes: with fewer of them (ss at ~40 ms) the
# steward lines were 0.9-1.2x, the code before's 1.6-2.5x.
#
# Usage: bench/ports.sh [N ...]   (root, to see every process's sockets)
#   env: BUILD_DIR (default build), BASELINE_DIR, RUNS (default 10),
#        ROUNDS (default 3)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
BUILD=${BUILD_DIR:-build}
[ "${BUILD#/}" != "$BUILD" ] || BUILD="$ROOT/$BUILD"
RUNS=${RUNS:-10}
ROUNDS=${ROUNDS:-3}
W=$(mktemp -d /tmp/steward-ports-bench.XXXXXX)
BASE=${BASELINE_DIR:-}
[ -z "$BASE" ] || [ "${BASE#/}" != "$BASE" ] || BASE="$ROOT/$BASE"
HOLDER=
DAEMON=
DAEMON_B=
cleanup() {
  [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  [ -n "$DAEMON_B" ] && kill "$DAEMON_B" 2>/dev/null && wait "$DAEMON_B" 2>/dev/null
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
# The CLI's own files (pins, sessions) in a scratch home.
export HOME="$W/home" XDG_CONFIG_HOME="$W/home/.config"
mkdir -p "$HOME"

# start_daemon BUILD DIR: a stewardd of BUILD over DIR; sets PID, PORT, and
# S/H (the CLI over the unix socket / over TLS, with a monitor's token and
# the pinned certificate on the command line).
start_daemon() {
  local b=$1 d=$2 token fp
  mkdir -p "$d"
  chmod 755 "$d"
  PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$b/stewardd" --foreground --listen "127.0.0.1:$PORT" --udp off --socket "$d/s.sock" \
    --state-dir "$d/state" --tls-dir "$d/tls" --config "$d/stewardd.conf" 2>"$d/stewardd.log" &
  PID=$!
  for _ in $(seq 200); do [ -S "$d/s.sock" ] && [ -s "$d/tls/cert.pem" ] && break; sleep 0.05; done
  S="$b/steward --socket $d/s.sock"
  token=$($S --json token create ports-bench --role monitor |
    $PY -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  fp=$(openssl x509 -in "$d/tls/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
  H="$b/steward -H 127.0.0.1:$PORT --token $token --fingerprint SHA256:$fp"
}

start_daemon "$BUILD" "$W/d"
DAEMON=$PID
NAMES=("ss -ltnp" "steward ports" "steward --json ports" "steward -H ports"
  "steward -H --json ports")
CMDS=("ss -ltnp" "$S ports" "$S --json ports" "$H ports" "$H --json ports")
S_MAIN=$S
H_MAIN=$H
if [ -n "$BASE" ]; then
  start_daemon "$BASE" "$W/base"
  DAEMON_B=$PID
  NAMES+=("before: steward ports" "before: --json ports" "before: -H ports"
    "before: -H --json ports")
  CMDS+=("$S ports" "$S --json ports" "$H ports" "$H --json ports")
fi
S=$S_MAIN
H=$H_MAIN
NAMES+=("lsof" "ports-enum")
CMDS+=("lsof -nP -iTCP -sTCP:LISTEN" "$W/ports-enum")

# The timing: every command once in turn, RUNS times a round, so that the
# machine's load (shared with other work) falls on every command alike;
# each run's wall time from start to exit, its output to a file.
cat >"$W/timing.py" <<'PYEOF'
import shlex, subprocess, sys, time
runs, rounds, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names, cmds = sys.argv[4::2], [shlex.split(c) for c in sys.argv[5::2]]
print("%-28s" % "command" + "".join(" %10s %8s" % ("round%d/ms" % (r + 1), "x ss")
                                    for r in range(rounds)))
table = []
for r in range(rounds):
    t = [0.0] * len(cmds)
    for _ in range(runs):
        for i, c in enumerate(cmds):
            with open(out, "wb") as f:
                t0 = time.perf_counter()
                subprocess.run(c, stdout=f, stderr=subprocess.DEVNULL)
                t[i] += time.perf_counter() - t0
    table.append([x / runs * 1000 for x in t])
for i, name in enumerate(names):
    print("%-28s" % name + "".join(" %10.2f %7.2fx" % (row[i], row[i] / row[0]) for row in table))
PYEOF

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

  echo "== N = $n listening sockets: mean of $RUNS runs each, in turn, $ROUNDS rounds; the JSON is $bytes bytes =="
  args=()
  for i in "${!CMDS[@]}"; do args+=("${NAMES[$i]}" "${CMDS[$i]}"); done
  $PY "$W/timing.py" "$RUNS" "$ROUNDS" "$W/out.txt" "${args[@]}"
  echo "(ports-enum: $got; steward ports: $rows rows; steward --json ports: $objs listeners)"

  exec 3>&-
  wait "$HOLDER" || true
  HOLDER=
done
