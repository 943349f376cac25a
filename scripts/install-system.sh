#!/bin/sh
# Prepares this machine for stewardd, idempotently: the unprivileged user the
# network front runs as, the role groups, and the PAM service file.
# Usage: install-system.sh [--if-root]   (--if-root: do nothing when not root)
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  [ "${1:-}" = "--if-root" ] && exit 0
  echo "steward: run as root to create the _steward user and install /etc/pam.d/steward" >&2
  exit 1
fi

if ! getent passwd _steward >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --user-group _steward
  echo "steward: created the system user _steward (the network front runs as it)"
fi
# The front reads the journal (the logs module) as a member of systemd-journal.
if getent group systemd-journal >/dev/null &&
   ! id -nG _steward | tr ' ' '\n' | grep -qx systemd-journal; then
  usermod -a -G systemd-journal _steward
  echo "steward: added _steward to the group systemd-journal (to read the journal)"
fi
for g in steward-admin steward-operator steward-monitor; do
  getent group "$g" >/dev/null || groupadd --system "$g"
done
if ! cmp -s data/pam.d/steward /etc/pam.d/steward 2>/dev/null; then
  install -D -m 0644 data/pam.d/steward /etc/pam.d/steward
  echo "steward: installed /etc/pam.d/steward"
fi
# The metrics textfile collector's directory (metrics:textfile_dir): root's
# cron jobs write *.prom files there, the front (_steward) reads them; the
# state directory above it lets the front through without listing it.
if [ ! -d /var/lib/steward/textfile ]; then
  install -d -m 0711 /var/lib/steward
  install -d -m 0755 /var/lib/steward/textfile
  echo "steward: created /var/lib/steward/textfile (metrics:textfile_dir)"
fi
