#!/bin/sh
# Installs the Debian packages a task needs, only those missing; apt-get
# update runs only when something is missing.  Usage: install-deps.sh build|test|fuzz|bench|deb
set -eu

build="meson ninja-build pkg-config gcc libc6-dev libmicrohttpd-dev libgnutls28-dev libjansson-dev libcurl4-openssl-dev libssl-dev libseccomp-dev libpam0g-dev libsqlite3-dev libsystemd-dev libacl1-dev libmnl-dev"
# The web console's build runs `npm ci`: Debian's node and npm, unless an npm
# is already there (a newer node installed another way is fine).
command -v npm >/dev/null 2>&1 || build="$build nodejs npm"
# The fuzz targets are built with clang and libFuzzer (libclang-rt-14-dev holds
# libFuzzer and the sanitizer runtimes; named so that a clang change cannot drop it).
fuzz="$build clang libclang-rt-14-dev"
# The Debian package and the booted container that tests it (tests/container).
deb="$build debhelper dpkg-dev lintian"
container="debootstrap systemd-container"
test="$fuzz $deb $container libcmocka-dev python3 python3-pytest python3-jsonschema openssl curl iproute2 prometheus chromium passwd login libnss-extrausers testssl.sh fail2ban samba samba-common-bin smbclient samba-vfs-modules nfs-kernel-server acl avahi-daemon postfix dovecot-core dovecot-imapd dovecot-pop3d systemd-journal-remote dnsmasq-base nftables prometheus-alertmanager prometheus-node-exporter ansible-core rsyslog rsyslog-gnutls"
bench="$build wrk nginx-light procps hyperfine lsof iproute2 prometheus-node-exporter $container samba samba-common-bin smbclient ansible-core"

case "${1:-build}" in
  build) want=$build ;;
  test)  want=$test ;;
  fuzz)  want=$fuzz ;;
  bench) want=$bench ;;
  deb)   want=$deb ;;
  *) echo "usage: $0 build|test|fuzz|bench|deb" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "steward: these Debian packages are missing:$missing" >&2
  echo "steward: run as root (or: sudo apt-get install$missing)" >&2
  exit 1
fi
echo "steward: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
