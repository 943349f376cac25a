#!/bin/bash
# Benchmark of listening-socket enumeration with owners, in one run on this
# machine: for N = 100, 1000, 10000 listening TCP sockets held by one helper
# process (bench/hold_sockets.py), time
#   ss -ltnp                        (sock_diag + /proc/*/fd walk)
#   lsof -nP -iTCP -sTCP:LISTEN     (/proc walk + /proc/net parsing)
#   bench/ports-enum                (sockets_list + procmap_build, this module)
# with hyperfine when installed (scripts/install-deps.sh bench), else 20 runs
# each timed with date +%s%N, and print the mean per tool and the ratios.
# Each tool prints to /dev/null; the driver's own count is checked once per
# N.  Timings here are noisy: compare only numbers from the same run.
# Usage: bench/ports.sh [N ...]   (run as root to see every process)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
W=$(mktemp -d /tmp/steward-ports-bench.XXXXXX)
HOLDER=
DAEMON=
cleanup() {
  [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
  exec 3>&- 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 1000 10000)
RUNS=20

# The driver, built by hand against the module's sources, optimized as the
# release build is.
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
  -Wno-missing-field-initializers -I "$ROOT/src/common" -I "$ROOT/src/modules" -I "$ROOT/src" \
  "$ROOT/bench/ports-enum.c" "$ROOT/src/common/sockets.c" "$ROOT/src/common/procfs.c" \
  "$ROOT/src/modules/ports/procmap.c" "$ROOT/src/common/util.c" -o "$W/ports-enum"

# The whole path as a user meets it: stewardd (release build) over its local
# socket, `steward --json ports` (listing, owners through the helper,
# registry, findings, JSON), when the build exists.
STEWARD_API=false
if [ -x "$ROOT/build/stewardd" ] && [ -x "$ROOT/build/steward" ]; then
  chmod 755 "$W"
  "$ROOT/build/stewardd" --foreground --listen 127.0.0.1:0 --udp off --socket "$W/s.sock" \
    --state-dir "$W/state" --tls-dir "$W/tls" --config "$W/stewardd.conf" 2>"$W/stewardd.log" &
  DAEMON=$!
  for _ in $(seq 200); do [ -S "$W/s.sock" ] && break; sleep 0.05; done
  STEWARD_API=true
fi

have_hyperfine=false
command -v hyperfine >/dev/null && have_hyperfine=true
command -v lsof >/dev/null || { echo "lsof missing: scripts/install-deps.sh bench" >&2; exit 1; }

# Mean wall time of a command in milliseconds.
mean_ms() {
  if $have_hyperfine; then
    hyperfine -N --warmup 2 --runs $RUNS --export-json "$W/h.json" "$1" >/dev/null 2>&1 ||
      hyperfine --warmup 2 --runs $RUNS --export-json "$W/h.json" "$1 >/dev/null" >/dev/null
    $PY -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$W/h.json"
  else
    local t0 t1
    t0=$(date +%s%N)
    for _ in $(seq $RUNS); do bash -c "$1" >/dev/null 2>&1 || true; done
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" -v n=$RUNS 'BEGIN {printf "%.2f", (b - a) / n / 1e6}'
  fi
}

echo "== socket enumeration with owners, mean of $RUNS runs ($($have_hyperfine && echo hyperfine || echo 'date loop')) =="
printf "%7s %12s %12s %12s %10s %10s %14s %10s %10s\n" N ss-ltnp/ms lsof/ms ports-enum/ms ss/enum \
  lsof/enum "steward/ms" ss/steward lsof/steward
for n in "${SIZES[@]}"; do
  mkfifo "$W/in.$n"
  $PY "$ROOT/bench/hold_sockets.py" "$n" <"$W/in.$n" >"$W/out.$n" &
  HOLDER=$!
  exec 3>"$W/in.$n"
  until grep -q ready "$W/out.$n" 2>/dev/null; do
    kill -0 "$HOLDER" 2>/dev/null || { echo "hold_sockets.py failed" >&2; exit 1; }
    sleep 0.05
  done

  # The driver sees the holder's sockets and their owner.
  got=$("$W/ports-enum")
  total=${got%% sockets*}
  [ "$total" -ge "$n" ] || { echo "ports-enum saw $got, expected >= $n" >&2; exit 1; }

  t_ss=$(mean_ms "ss -ltnp")
  t_lsof=$(mean_ms "lsof -nP -iTCP -sTCP:LISTEN")
  t_enum=$(mean_ms "$W/ports-enum")
  t_api=-
  $STEWARD_API && t_api=$(mean_ms "$ROOT/build/steward --socket $W/s.sock --json ports")
  printf "%7s %12s %12s %12s %10s %10s %14s %10s %10s\n" "$n" "$t_ss" "$t_lsof" "$t_enum" \
    "$(awk -v a="$t_ss" -v b="$t_enum" 'BEGIN {printf "%.2fx", a / b}')" \
    "$(awk -v a="$t_lsof" -v b="$t_enum" 'BEGIN {printf "%.2fx", a / b}')" "$t_api" \
    "$(awk -v a="$t_ss" -v b="$t_api" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')" \
    "$(awk -v a="$t_lsof" -v b="$t_api" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')"
  echo "        (ports-enum: $got)"

  exec 3>&-
  wait "$HOLDER" || true
  HOLDER=
done
