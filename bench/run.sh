#!/bin/bash
# Side-by-side benchmark of the request pipeline, in one run on this machine:
#   stewardd  GET /api/v1/whoami (authenticated, TLS keep-alive)
#   nginx     a same-size JSON body over TLS, one worker, same key and cert
# with wrk (50 connections), then stewardd's resident memory idle and with
# 1,000 idle TLS keep-alive connections, and its start-up time to the first
# answered request.  Prints ratios; timings here are noisy, so compare only
# numbers from the same run.  Usage: bench/run.sh BUILD_DIR [SECONDS]
set -euo pipefail

BUILD=${1:-build}
SECS=${2:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
STEWARDD=$ROOT/$BUILD/stewardd
PY=/usr/bin/python3
W=$(mktemp -d /tmp/steward-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; [ -f $W/nginx.pid ] && kill $(cat $W/nginx.pid) 2>/dev/null; rm -rf $W' EXIT

SP=$(free_port); NP=$(free_port)

cat > $W/stewardd.conf <<CONF
limits:max_connections = 5000
limits:max_connections_per_ip = 5000
# wrk opens all its connections at once from one address: room for them
# while they shake hands (the budgets for strangers would refuse them).
limits:max_unauthenticated_connections = 5000
limits:max_unauthenticated_per_source = 5000
limits:idle_timeout = 300
log_level = "warning"
CONF

# Ready = the first answered request (a 401 without credentials counts).
answered() { [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert $W/tls/cert.pem \
                https://127.0.0.1:$SP/api/v1/whoami 2>/dev/null)" != 000 ]; }
start_daemon() { start_stewardd "$STEWARDD" "$W" "$SP"; }
start_ns=$(date +%s%N); start_daemon
until [ -s $W/tls/cert.pem ] && answered; do sleep 0.002; done
first_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
# A session for the benchmark, made with the one-time bootstrap token.
TOKEN=$(bootstrap_login "$W" "$SP")
# Later starts (identity and store exist): what an operator sees on restarts.
kill $SPID; wait $SPID || true
start_ns=$(date +%s%N); start_daemon
until answered; do sleep 0.002; done
restart_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
curl -sf --cacert $W/tls/cert.pem -H "Authorization: Bearer $TOKEN" \
  https://127.0.0.1:$SP/api/v1/whoami -o $W/whoami.json
# The daemon is two processes: the root helper and the unprivileged front.
FRONT=$(front_pid "$SPID")

BODY=$(cat $W/whoami.json)
mkdir -p $W/nginx
cat > $W/nginx.conf <<CONF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path $W/nginx; proxy_temp_path $W/nginx; fastcgi_temp_path $W/nginx;
  uwsgi_temp_path $W/nginx; scgi_temp_path $W/nginx;
  server {
    listen 127.0.0.1:$NP ssl;
    ssl_certificate $W/tls/cert.pem;
    ssl_certificate_key $W/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type application/json; return 200 '$BODY'; }
  }
}
CONF
nginx -c $W/nginx.conf
sleep 0.3

rss() { awk '/VmRSS/ {print $2}' /proc/$1/status; }
idle_kb=$(( $(rss $SPID) + $(rss $FRONT) ))

run_wrk() { wrk -t2 -c50 -d${SECS}s --latency -H "Authorization: Bearer $TOKEN" "$1" 2>&1; }
echo "== wrk, 50 connections, ${SECS}s each =="
S_OUT=$(run_wrk https://127.0.0.1:$SP/api/v1/whoami)
N_OUT=$(run_wrk https://127.0.0.1:$NP/api/v1/whoami)
rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
p99() { awk '$1=="99%" {print $2}' <<<"$1"; }
errs() { grep -E "Non-2xx|Socket errors" <<<"$1" || true; }
s_rps=$(rps "$S_OUT"); n_rps=$(rps "$N_OUT")
echo "stewardd  $s_rps req/s  p99 $(p99 "$S_OUT")  $(errs "$S_OUT")"
echo "nginx     $n_rps req/s  p99 $(p99 "$N_OUT")  $(errs "$N_OUT")"
echo "ratio stewardd/nginx requests/s: $(awk -v a=$s_rps -v b=$n_rps 'BEGIN {printf "%.2f", a/b}')"
busy_kb=$(( $(rss $SPID) + $(rss $FRONT) ))

# 1,000 idle connections (bench/idle-conns.sh measures more, PSS and streams).
coproc IDLE { exec $PY "$ROOT/bench/idle_conns.py" idle 127.0.0.1 $SP $W/tls/cert.pem "$TOKEN" 1000; }
read -r _ <&"${IDLE[0]}"
echo "stewardd with 1000 idle TLS connections (helper + front): $(( $(rss $SPID) + $(rss $FRONT) )) kB" > $W/idle.txt
eval "exec ${IDLE[1]}>&-"
wait "$IDLE_PID"
echo "== memory (VmRSS) =="
echo "stewardd idle after start (helper + front): ${idle_kb} kB"
echo "stewardd after the wrk run:           ${busy_kb} kB"
cat $W/idle.txt
echo "nginx worker:                         $(rss $(pgrep -P $(cat $W/nginx.pid) | head -1)) kB"
echo "== start-up to first answered request =="
echo "first start (generates key and cert): ${first_ms} ms"
echo "later start:                          ${restart_ms} ms"
