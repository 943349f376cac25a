#!/bin/sh
# Puts the build's steward CLI on the PATH for `make run`: a symlink
# LINK (default /usr/local/bin/steward) -> BUILD_DIR/steward, made only when
# LINK is free or is already a link to a Steward build's CLI (a steward with
# a stewardd beside it); anything else there is left alone, and this says
# where the CLI is instead.  Nor is a link made when someone other than
# root (or the user running this) could replace the CLI: the link is on
# root's PATH, so every folder from / down to the CLI, and the CLI itself,
# must belong to root or to this user and be writable by no one else.
# Prints one line either way.
# Usage: link-cli.sh BUILD_DIR [LINK]
set -eu
build=$(cd "$1" && pwd)
link=${2:-/usr/local/bin/steward}
cli="$build/steward"

ours() {
  [ -L "$link" ] || return 1
  target=$(readlink -f -- "$link" 2>/dev/null) || return 1
  [ "$(basename -- "$target")" = steward ] && [ -x "$(dirname -- "$target")/stewardd" ]
}

# Is every path component of $1, and $1 itself, this user's or root's and
# writable by neither group nor others?  A sticky folder such as /tmp may
# be: no one can rename or remove what another owns in it.
safe_path() {
  p=$1
  me=$(id -u)
  while :; do
    set -- $(stat -L -c '%u %a' -- "$p") || return 1
    [ "$1" = 0 ] || [ "$1" = "$me" ] || return 1
    case $2 in
      [1357]???) ;;
      *[2367]? | *[2367]) return 1 ;;
    esac
    [ "$p" = / ] && return 0
    p=$(dirname -- "$p")
  done
}

if ! safe_path "$cli"; then
  echo "steward: not linked: others can write to $cli or a folder above it; the CLI is $cli"
elif [ ! -e "$link" ] && [ ! -L "$link" ] || ours; then
  mkdir -p -- "$(dirname -- "$link")"
  ln -sfn -- "$cli" "$link"
  echo "steward: the CLI is on the PATH: $link -> $cli"
else
  echo "steward: $link is not ours (left alone); the CLI is $cli"
fi
