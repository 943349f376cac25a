#!/bin/sh
# Builds (once) the Debian 12 root that the booted-container tests boot with
# systemd-nspawn, and prints its path.  The root is cached under CACHE
# (/var/cache/steward-test by default, never in the clone), named by a hash
# of this script, the suite, the mirror and the package list, so a change to
# any of them builds a new root beside the old one.  The build happens in a
# temporary directory renamed into place when complete: an interrupted build
# leaves no half root behind under the final name.
#
# Usage: build-root.sh [PACKAGE…]      extra Debian packages for the root
# Environment: STEWARD_TEST_CACHE (the cache directory),
#              STEWARD_TEST_MIRROR (default: the machine's own Debian mirror)
set -eu

cache=${STEWARD_TEST_CACHE:-/var/cache/steward-test}
suite=bookworm
base="systemd,systemd-sysv,dbus,libpam-systemd"

# The machine's own mirror: the first Debian URI in its apt sources that is
# not the security archive (deb822 "URIs:" or one-line "deb URI").
mirror=${STEWARD_TEST_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
  /etc/apt/sources.list.d/*.sources 2>/dev/null |
  sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}//p' |
  awk '{print $1}' | grep -E '/debian/?$' | head -n 1)}
[ -n "$mirror" ] || { echo "build-root: no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
security=$(echo "$mirror" | sed 's#/debian/\{0,1\}$#/debian-security#')

if [ "$(id -u)" -ne 0 ]; then
  echo "build-root: needs root (debootstrap, chroot)" >&2
  exit 1
fi
pkgs=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
key=$( { cat "$0"; echo "$suite $mirror $base $pkgs"; } | sha256sum | cut -c1-16)
root="$cache/root-$key"
if [ -f "$root/.complete" ]; then
  echo "$root"
  exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "build-root: debootstrap $suite from $mirror into $tmp (a few minutes, once)" >&2
debootstrap --variant=minbase --include="$base" "$suite" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
  { tail -n 30 "$tmp/debootstrap.log" >&2; exit 1; }
cat >"$tmp/root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
SOURCES
if [ -n "$pkgs" ]; then
  # No service starts in the chroot while packages are installed.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/root/usr/sbin/policy-rc.d"
  chmod 0755 "$tmp/root/usr/sbin/policy-rc.d"
  # shellcheck disable=SC2086
  chroot "$tmp/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs" \
    >"$tmp/apt.log" 2>&1 || { tail -n 30 "$tmp/apt.log" >&2; exit 1; }
  rm -f "$tmp/root/usr/sbin/policy-rc.d"
fi
chroot "$tmp/root" apt-get clean
# A booted container has no network (--private-network): nothing waits for it.
rm -f "$tmp/root/etc/machine-id"
: >"$tmp/root/etc/machine-id"
touch "$tmp/root/.complete"
mv -T "$tmp/root" "$root" 2>/dev/null || { [ -f "$root/.complete" ] || exit 1; }
echo "$root"
