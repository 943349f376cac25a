#!/bin/sh
# The cost of a password login against the cost of the password hash alone
# (crypt(3) of the same yescrypt hash), side by side in one run, over a
# scratch /etc in private namespaces: see bench/login.py, which this runs.
# Usage: bench/login.sh [BUILD_DIR] [N] [ROUNDS] [BASELINE_BUILD_DIR]   (root)
exec /usr/bin/python3 "$(dirname "$0")/login.py" "$@"
