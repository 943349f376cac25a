#!/usr/bin/python3
"""openapi-lint.py — lints the OpenAPI document with Redocly CLI and fails on
any error or warning (redocly itself exits 0 on warnings).

    openapi-lint.py REDOCLY CONFIG DOCUMENT

Redocly runs with telemetry and its update check off, so the lint needs no
network and sends nothing."""
import os
import re
import subprocess
import sys


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    redocly, config, document = sys.argv[1:]
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
               NO_COLOR="1")
    p = subprocess.run([redocly, "lint", "--config", config, document], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(p.stdout)
    if p.returncode != 0:
        return 1
    if re.search(r"You have \d+ warnings?", p.stdout) or "valid" not in p.stdout:
        print("openapi-lint: warnings count as failures", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
