#!/bin/sh
# update-iana.sh — replaces data/iana/service-names-port-numbers.csv with a
# newer copy of IANA's Service Name and Transport Protocol Port Number
# Registry, from a local file or an https URL, and says what changed.
#
#   src/modules/ports/update-iana.sh FILE
#   src/modules/ports/update-iana.sh https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.csv
#
# The new file is only read, never run.  Before anything is replaced it must
# have IANA's header line, more than 10000 CRLF-terminated rows (IANA ends
# rows with CRLF and breaks lines inside quoted fields with a bare LF), and
# pass the build's own strict check: src/modules/ports/gen-portdata, compiled from this
# tree into a temporary directory, parses it exactly as the build will.  The
# replacement is a rename within data/iana/, so a reader sees the old file or
# the new one, never half of one.  Afterwards, rebuild and run the unit tests:
# data/ports/legacy.csv must still name what the registry has, and
# tests/unit/test-portdata.c pins a few registry facts.
set -eu

usage() {
  echo "usage: $0 FILE|https://URL" >&2
  exit 2
}
die() {
  echo "update-iana: $*" >&2
  exit 1
}

[ $# -eq 1 ] || usage
src=$1
root=$(cd "$(dirname "$0")/../../.." && pwd)
dest=$root/data/iana/service-names-port-numbers.csv
header='Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,Registration Date,Modification Date,Reference,Service Code,Unauthorized Use Reported,Assignment Notes'
max_bytes=33554432 # the generator's input limit (INPUT_MAX)

tmp=$(mktemp -d)
staged=
cleanup() {
  rm -rf "$tmp"
  [ -z "$staged" ] || rm -f "$staged"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $src in
  https://*)
    command -v curl >/dev/null 2>&1 || die "curl is needed to download $src"
    # --proto =https also holds for redirects.
    curl --fail --silent --show-error --location --proto =https --tlsv1.2 \
      --max-time 300 --max-filesize "$max_bytes" -o "$tmp/new.csv" -- "$src" ||
      die "download failed: $src"
    ;;
  *://*)
    die "only https URLs are accepted: $src"
    ;;
  *)
    [ -f "$src" ] || die "no such file: $src"
    cp -- "$src" "$tmp/new.csv"
    ;;
esac

size=$(wc -c <"$tmp/new.csv")
[ "$size" -le "$max_bytes" ] || die "$src is larger than $max_bytes bytes"

first=$(head -n 1 "$tmp/new.csv" | tr -d '\r')
[ "$first" = "$header" ] || die "$src does not start with IANA's header line; found: $(printf '%.200s' "$first")"

cr=$(printf '\r')
new_rows=$(($(grep -c "$cr\$" "$tmp/new.csv" || true) - 1))
[ "$new_rows" -gt 10000 ] ||
  die "$src has $new_rows CRLF-terminated rows; IANA's registry has more than 10000"

cc=${CC:-cc}
"$cc" -std=c17 -O1 -D_GNU_SOURCE -I"$root/src/modules/ports" -o "$tmp/gen-portdata" \
  "$root/src/modules/ports/gen-portdata.c" "$root/src/modules/ports/csv.c" ||
  die "cannot build gen-portdata with $cc"
"$tmp/gen-portdata" --summary "$tmp/new.csv" >"$tmp/new.summary" ||
  die "$src fails the build's check (see above); nothing was replaced"
"$tmp/gen-portdata" --list "$tmp/new.csv" | LC_ALL=C sort >"$tmp/new.list"

field() { sed -n "s/^$1 //p" "$2"; }

if [ -f "$dest" ]; then
  if cmp -s "$tmp/new.csv" "$dest"; then
    echo "update-iana: $dest is already this copy ($(field date "$tmp/new.summary"))"
    exit 0
  fi
  if "$tmp/gen-portdata" --summary "$dest" >"$tmp/old.summary" 2>/dev/null; then
    "$tmp/gen-portdata" --list "$dest" | LC_ALL=C sort >"$tmp/old.list"
  else
    : >"$tmp/old.summary"
    : >"$tmp/old.list"
  fi
else
  : >"$tmp/old.summary"
  : >"$tmp/old.list"
fi

staged=$(mktemp "$dest.XXXXXX")
cp -- "$tmp/new.csv" "$staged"
chmod 0644 "$staged"
mv -f -- "$staged" "$dest"
staged=

old_rows=$(field rows "$tmp/old.summary")
old_ports=$(field ports "$tmp/old.summary")
old_date=$(field date "$tmp/old.summary")
echo "update-iana: replaced $dest"
echo "  registry date: ${old_date:-unknown} -> $(field date "$tmp/new.summary")"
echo "  rows:          ${old_rows:-unknown} -> $(field rows "$tmp/new.summary")"
echo "  with a port:   ${old_ports:-unknown} -> $(field ports "$tmp/new.summary")"
added=$(LC_ALL=C comm -13 "$tmp/old.list" "$tmp/new.list" | wc -l)
removed=$(LC_ALL=C comm -23 "$tmp/old.list" "$tmp/new.list" | wc -l)
echo "  port records:  $added added, $removed removed (port/protocol service)"
LC_ALL=C comm -13 "$tmp/old.list" "$tmp/new.list" | head -n 20 | sed 's/^/    + /'
LC_ALL=C comm -23 "$tmp/old.list" "$tmp/new.list" | head -n 20 | sed 's/^/    - /'
[ "$((added + removed))" -le 40 ] || echo "    (first 20 of each shown)"
