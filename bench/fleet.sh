#!/bin/bash
# The fleet benchmark: N stewardd daemons (release build), each in its own
# network namespace on one bridge, asked "status system" all at once by
# `steward -H @all --json status system` and, in the same run, by Ansible's
# uri module ad hoc (forks 50); memory per daemon.  bench/fleet.py says what
# is measured and how.  Needs root, ansible-core (scripts/install-deps.sh bench).
# Usage: bench/fleet.sh [BUILD_DIR] [SIZES] [RUNS]    (defaults: build-rel 50,100,200 3)
#        more options: bench/fleet.py --help
set -euo pipefail

BUILD=${1:-build-rel}
SIZES=${2:-50,100,200}
RUNS=${3:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ ! -x "$BUILD/stewardd" ] || [ ! -x "$BUILD/steward" ]; then
  [ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=release >/dev/null
  ninja -C "$BUILD" stewardd steward
fi
# Two descriptors a host on the CLI's side, and a few per daemon on ours.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
shift $(( $# < 3 ? $# : 3 ))
exec /usr/bin/python3 "$ROOT/bench/fleet.py" --build "$ROOT/$BUILD" --sizes "$SIZES" --runs "$RUNS" "$@"
