#!/bin/sh
# Puts the build's steward CLI on the PATH for `make run`: a symlink
# LINK (default /usr/local/bin/steward) -> BUILD_DIR/steward, made only when
# LINK is free or is already a link to a Steward build's CLI (a steward with
# a stewardd beside it); anything else there is left alone, and this says
# where the CLI is instead.  Prints one line either way.
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

if [ ! -e "$link" ] && [ ! -L "$link" ] || ours; then
  mkdir -p -- "$(dirname -- "$link")"
  ln -sfn -- "$cli" "$link"
  echo "steward: the CLI is on the PATH: $link -> $cli"
else
  echo "steward: $link is not ours (left alone); the CLI is $cli"
fi
