# Shared by the bench scripts (sourced, not run).

# front_pid DAEMON_PID: the network front, the daemon's one child that does
# not run as root (the others are root: the audit forwarder, and the
# helper's workers for slow reads, short-lived).
front_pid() {
  local c uid
  for c in $(cat "/proc/$1/task/$1/children"); do
    uid=$(awk '/^Uid:/ {print $2}' "/proc/$c/status" 2>/dev/null) || continue
    [ -n "$uid" ] && [ "$uid" != 0 ] && { echo "$c"; return 0; }
  done
  echo "no front under process $1" >&2
  return 1
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_answering DIR PORT: until the daemon started with --state-dir DIR/state
# and --tls-dir DIR/tls answers on 127.0.0.1:PORT (at most 10 s).
wait_answering() {
  local _
  for _ in $(seq 500); do
    [ -s "$1/tls/cert.pem" ] && [ -s "$1/state/bootstrap-token" ] &&
      curl -s -o /dev/null --cacert "$1/tls/cert.pem" https://127.0.0.1:"$2"/metrics && return 0
    sleep 0.02
  done
  echo "no answer from the daemon on port $2" >&2
  return 1
}

# bootstrap_login DIR PORT: an admin session's token, from the daemon's
# one-time bootstrap token.
bootstrap_login() {
  curl -sf --cacert "$1/tls/cert.pem" -H 'Content-Type: application/json' \
    -d "{\"bootstrap_token\": \"$(cat "$1/state/bootstrap-token")\"}" \
    https://127.0.0.1:"$2"/api/v1/login |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# start_stewardd STEWARDD DIR PORT: the daemon in the background on
# 127.0.0.1:PORT with everything under DIR (config DIR/stewardd.conf, log
# DIR/stewardd.log); its pid in SPID.
start_stewardd() {
  "$1" --foreground --listen 127.0.0.1:"$3" --udp off --socket "$2/s.sock" \
    --state-dir "$2/state" --tls-dir "$2/tls" --config "$2/stewardd.conf" 2>>"$2/stewardd.log" &
  SPID=$!
}
