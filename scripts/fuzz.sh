#!/bin/sh
# Runs every libFuzzer target of a fuzz build (make build-fuzz) for SECONDS
# each, one after the other, and prints the executions each one made.
#
#   fuzz.sh BUILD SECONDS [WORKDIR]
#
# Each target starts from a copy of its corpus in tests/fuzz/corpus/NAME, in
# WORKDIR/NAME; what it finds goes there, never into the repository.  Without
# WORKDIR (make test) a temporary directory is used and removed; with one
# (make fuzz: BUILD/fuzz-corpus) the grown corpora stay for the next
# campaign; merge a find into the repository with
#   BUILD/tests/fuzz/fuzz-NAME -merge=1 tests/fuzz/corpus/NAME WORKDIR/NAME
# A crash, a leak or a sanitizer report fails the run; the input that caused
# it is kept in BUILD/fuzz-artifacts (add it to the corpus once fixed).
set -eu

[ $# -ge 2 ] || { echo "usage: $0 BUILD SECONDS [WORKDIR]" >&2; exit 2; }
build=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
case $seconds in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number" >&2; exit 2 ;; esac

if [ $# -ge 3 ]; then
  work=$3
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/steward-fuzz.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
artifacts=$build/fuzz-artifacts
mkdir -p "$work" "$artifacts"

found=0
failed=""
for bin in "$build"/tests/fuzz/fuzz-*; do
  case $bin in *-replay|*.p) continue ;; esac
  [ -x "$bin" ] || continue
  name=${bin##*/fuzz-}
  found=$((found + 1))
  mkdir -p "$work/$name"
  cp -n "$root/tests/fuzz/corpus/$name"/* "$work/$name"/ 2>/dev/null || true
  log=$work/$name.log
  if "$bin" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$artifacts/$name-" "$work/$name" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    failed="$failed $name"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  printf 'fuzz-%-10s %s: %s executions in %s s, corpus %s inputs\n' "$name" "$result" \
    "${execs:-?}" "$seconds" "$(find "$work/$name" -type f | wc -l)"
  if [ "$result" = FAILED ]; then
    tail -n 60 "$log" >&2
  fi
done

if [ "$found" -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets in $build/tests/fuzz (configure it with -Dfuzzing=true)" >&2
  exit 1
fi
if [ -n "$failed" ]; then
  echo "fuzz.sh: failed:$failed (inputs in $artifacts)" >&2
  exit 1
fi
