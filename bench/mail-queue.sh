#!/bin/bash
# Benchmark of the mail queue with N deferred messages (default 10,000) in a
# scratch Postfix: private mount, network and UTS namespaces, a copy of /etc,
# empty scratch directories over /var/spool/postfix, /var/lib/postfix,
# /var/mail and /var/log (Postfix is never started on the host), and
# relayhost = [127.0.0.1]:2526 with nothing listening, so that every message
# is deferred.  The messages are submitted over SMTP on loopback by two
# clients at once (bench/mail-queue-fill.py), 1 in 5 to a recipient at
# example.com, the rest to d0.example … d7.example.  Then, in one run:
#   postqueue -j > /dev/null                    (the anchor)
#   steward --json mail queue list > /dev/null  (stewardd over its local socket:
#                                                the helper runs postqueue -j,
#                                                parses, filters, counts, answers)
#   curl GET /api/v1/mail_queue > /dev/null     (the same without the CLI)
# with hyperfine when installed (scripts/install-deps.sh bench), else RUNS
# runs each timed with date +%s%N; it prints both means and the ratio.  Last,
# `steward mail queue delete --domain example.com` deletes that domain's
# messages as one operation (a dry run first, then for real), timed once,
# with the count it reports and what postqueue -j still lists; and, as its
# anchor, the same done by hand for another domain (postqueue -j, a filter
# in Python, one postsuper -d -).
# Timings are noisy on a shared machine: compare only numbers of one run.
# Usage: bench/mail-queue.sh [BUILD [N]]   as root; BUILD defaults to ./build
# (the release build: make build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
N=${2:-10000}
RUNS=${RUNS:-10}

if [ "${MAILQ_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "run as root (namespaces, a scratch Postfix)" >&2; exit 1; }
  [ -x "$BUILD/stewardd" ] && [ -x "$BUILD/steward" ] ||
    { echo "no stewardd/steward in $BUILD: make build" >&2; exit 1; }
  command -v postqueue >/dev/null || { echo "Postfix missing: scripts/install-deps.sh test" >&2; exit 1; }
  W=$(mktemp -d /tmp/steward-mailq-bench.XXXXXX)
  chmod 755 "$W"
  trap 'rm -rf "$W"' EXIT
  MAILQ_INSIDE=1 W="$W" unshare --mount --net --uts --propagation private -- "$0" "$BUILD" "$N"
  exit
fi

# ---- inside the namespaces -------------------------------------------------------------
DAEMON=
cleanup() {
  postfix stop >/dev/null 2>&1 || true
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null || true
}
trap cleanup EXIT

mount --make-rprivate /
cp -a /etc "$W/etc"
cp -a /var/spool/postfix "$W/spool"
cp -a /var/lib/postfix "$W/lib"
mkdir -p "$W/mail" "$W/log"
mount --bind "$W/etc" /etc
mount --bind "$W/spool" /var/spool/postfix
mount --bind "$W/lib" /var/lib/postfix
mount --bind "$W/mail" /var/mail
mount --bind "$W/log" /var/log
ip link set lo up
hostname mx.bench.test
postconf -e myhostname=mx.bench.test mydestination=localhost inet_interfaces=loopback-only \
  inet_protocols=ipv4 'relayhost=[127.0.0.1]:2526' maillog_file=/var/log/postfix.log \
  smtpd_recipient_restrictions=permit_mynetworks,reject mynetworks=127.0.0.0/8 \
  default_process_limit=20 smtp_connect_timeout=1s
postfix start 2>&1 | grep -v "^postfix/postfix-script" || true

t0=$(date +%s%N)
timeout 900 /usr/bin/python3 "$ROOT/bench/mail-queue-fill.py" "$N"
# Wait until every message went through the active queue once (bounded).
for _ in $(seq 600); do
  n=$(postqueue -j 2>/dev/null | grep -c '"queue_name": "deferred"' || true)
  [ "$n" -ge "$N" ] && break
  sleep 1
done
t1=$(date +%s%N)
echo "queue: $n deferred messages (of $N), made in $(( (t1 - t0) / 1000000 )) ms"

"$BUILD/stewardd" --foreground --listen 127.0.0.1:0 --udp off --socket "$W/s.sock" \
  --state-dir "$W/state" --tls-dir "$W/tls" --config "$W/stewardd.conf" 2>"$W/stewardd.log" &
DAEMON=$!
for _ in $(seq 200); do [ -S "$W/s.sock" ] && break; sleep 0.05; done
export STEWARD_SOCKET="$W/s.sock"
STEWARD="$BUILD/steward"

if [ -n "${MAILQ_EXEC:-}" ]; then # look around: MAILQ_EXEC=bash bench/mail-queue.sh
  PATH="$BUILD:$PATH" $MAILQ_EXEC
  exit
fi

"$STEWARD" --json mail queue list >"$W/list.json"
/usr/bin/python3 - "$W/list.json" "$N" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
print(f"steward --json mail queue list: {len(a['mail_queue'])} messages")
EOF

have_hyperfine=false
command -v hyperfine >/dev/null && have_hyperfine=true
mean_ms() {
  if $have_hyperfine; then
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$W/h.json" "$1" >/dev/null 2>&1
    /usr/bin/python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$W/h.json"
  else
    local s e
    s=$(date +%s%N)
    for _ in $(seq "$RUNS"); do $1 >/dev/null 2>&1; done
    e=$(date +%s%N)
    echo "scale=1; ($e - $s) / 1000000 / $RUNS" | bc
  fi
}

pq=$(mean_ms "postqueue -j")
st=$(mean_ms "$STEWARD --json mail queue list")
api=$(mean_ms "curl -s -o /dev/null --unix-socket $W/s.sock http://localhost/api/v1/mail_queue")
echo "postqueue -j:                     $pq ms"
echo "steward --json mail queue list:   $st ms   (ratio $(echo "scale=2; $st / $pq" | bc))"
echo "GET /api/v1/mail_queue (curl):    $api ms   (ratio $(echo "scale=2; $api / $pq" | bc); the CLI's own parse and print left out)"

"$STEWARD" --json mail queue delete --domain example.com --dry-run >"$W/dry.json"
/usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print("dry run:", a.get("summary"), a.get("count"))' "$W/dry.json"
s=$(date +%s%N)
"$STEWARD" --json mail queue delete --domain example.com >"$W/del.json"
e=$(date +%s%N)
left=$(postqueue -j | grep -c '@example.com"' || true)
/usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print("delete:", a.get("summary"), "count", a.get("count"))' "$W/del.json"
echo "delete by domain: $(( (e - s) / 1000000 )) ms; example.com messages left: $left"
# The anchor: the same by hand for the messages of d1.example (1,250 of
# them), postqueue -j and a filter, then postsuper -d - once.
s=$(date +%s%N)
n=$(postqueue -j | /usr/bin/python3 -c '
import json, sys
ids = [m["queue_id"] for m in map(json.loads, sys.stdin)
       if any(r["address"].endswith("@d1.example") for r in m["recipients"])]
open(sys.argv[1], "w").write("".join(i + "\n" for i in ids))
print(len(ids))' "$W/ids.txt")
postsuper -d - <"$W/ids.txt" 2>/dev/null
e=$(date +%s%N)
echo "by hand (postqueue -j, a filter, postsuper -d -): $n messages in $(( (e - s) / 1000000 )) ms"
