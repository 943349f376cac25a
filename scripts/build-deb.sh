#!/bin/sh
# Builds the Debian package (debian/) into OUT, leaving the clone clean:
# the tree's files (tracked and new, as git sees them) and the console's
# npm asset (uPlot, web/node_modules, pinned by web/package-lock.json) are
# copied to OUT/src, dpkg-buildpackage builds there, and the .deb,
# .buildinfo and .changes land in OUT; then lintian checks the .deb and
# fails the build on an error (warnings kept are listed in
# docs/packaging.md).
# Usage: build-deb.sh [OUT]     (default build-deb)
set -eu
cd "$(dirname "$0")/.."
out=${1:-build-deb}
case $out in /*) ;; *) out="$PWD/$out" ;; esac
version=$(dpkg-parsechangelog -S Version)
src="$out/src/steward-$version"

rm -rf "$out/src"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$src"
mkdir -p "$src/web/node_modules/uplot"
cp -a web/node_modules/uplot/dist web/node_modules/uplot/LICENSE web/node_modules/uplot/package.json \
  "$src/web/node_modules/uplot/"
(cd "$src" && dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) || {
  tail -n 40 "$out/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
}
rm -f "$out"/steward_*.deb "$out"/steward-dbgsym_*.deb "$out"/steward_*.buildinfo "$out"/steward_*.changes
mv "$out"/src/steward_* "$out"/src/steward-dbgsym_* "$out/" 2>/dev/null || true
deb=$(ls "$out"/steward_"$version"_*.deb)
echo "build-deb: $deb"
lintian --fail-on error --info "$deb"
