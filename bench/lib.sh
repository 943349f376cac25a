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
