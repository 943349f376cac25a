#!/bin/bash
# What libmicrohttpd's connection pool costs an idle connection, measured
# against a private build of the same library that gives the pool's pages
# back between requests (bench/mhd-pool/pool-madvise.patch: on Linux the
# pool is mmap'd and MHD_pool_reset madvises it instead of zeroing it, which
# is what the library already does on Windows).
#
# Fetches Debian's source of the installed libmicrohttpd (apt-get source
# with its own, temporary apt state: the host's apt configuration is not
# touched), applies the patch, builds it into WORK/mhd, builds stewardd
# against it (release, rpath) and stock, and runs bench/idle-conns.sh on both
# in the same run.  Nothing is installed.
#
# Usage: bench/mhd-pool.sh [N] [RUNS]     (defaults: 500 3)
#        WORK=DIR keeps the builds there (default: a temporary directory)
set -euo pipefail

N=${1:-500}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEEP=${WORK:+1}
WORK=${WORK:-$(mktemp -d /tmp/steward-mhd-pool.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
[ -n "$KEEP" ] || trap 'rm -rf "$WORK"' EXIT

ver=$(dpkg-query -W -f '${source:Version}' libmicrohttpd-dev)
if [ ! -x "$WORK/mhd/lib/libmicrohttpd.so" ]; then
  apt=$WORK/apt
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/src"
  echo "deb-src http://deb.debian.org/debian bookworm main" > "$apt/sources.list"
  echo "deb-src http://deb.debian.org/debian-security bookworm-security main" >> "$apt/sources.list"
  opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State=$apt/state" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" -qq update
  (cd "$apt/src" && apt-get "${opts[@]}" -qq source "libmicrohttpd=$ver" >/dev/null)
  src=$(find "$apt/src" -maxdepth 1 -type d -name 'libmicrohttpd-*' | head -1)
  patch -d "$src" -p1 -s < "$ROOT/bench/mhd-pool/pool-madvise.patch"
  (cd "$src" && ./configure -q --prefix="$WORK/mhd" --with-gnutls --disable-doc \
     --disable-examples --disable-curl >/dev/null && make -s -j2 >/dev/null &&
   make -s install >/dev/null)
fi
for b in stock madv; do
  [ -x "$WORK/$b/stewardd" ] && continue
  if [ "$b" = madv ]; then
    PKG_CONFIG_PATH=$WORK/mhd/lib/pkgconfig meson setup "$WORK/$b" "$ROOT" -Dtests=false \
      -Dc_link_args=-Wl,-rpath,"$WORK/mhd/lib" >/dev/null
  else
    meson setup "$WORK/$b" "$ROOT" -Dtests=false >/dev/null
  fi
  ninja -C "$WORK/$b" >/dev/null
done
ldd "$WORK/madv/stewardd" | grep -q "$WORK/mhd/lib/libmicrohttpd" ||
  { echo "the patched build does not load the private library" >&2; exit 1; }
echo "libmicrohttpd $ver: madv = pool given back between requests, stock = Debian's"
for _ in $(seq "$RUNS"); do
  "$ROOT/bench/idle-conns.sh" "$WORK/madv" "$N" "$WORK/stock"
done
