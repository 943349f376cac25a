#!/usr/bin/python3
"""Boots the test container of tests/integration/systemd_ct.py (the same
cached root, units, accounts and sanitizer-free or sanitizer build of
stewardd inside) and runs one benchmark against it, then tears it down.

    bench/run-container.py [--build DIR] SCRIPT [ARG…]

SCRIPT.py is imported and its main(ct, argv) called with the SystemdCt
object (ct.run, ct.https, ct.cli, ct.token… as the tests have them) and
ct.inside(*argv) / ct.steward(*args, role=) added: argv lists that run a
command inside the container (nsenter, as root) and the CLI on the host
against the daemon, for timing fresh processes (bench/ctbench.py), and
ct.steward_inside, the CLI's path inside (as root it talks to the daemon
over the unix socket, as an administrator).

Any other SCRIPT is executed with, in its environment:
  STEWARD_CT_IP, STEWARD_CT_PORT, STEWARD_CT_URL, STEWARD_CT_FINGERPRINT,
  STEWARD_CT_CERT (the daemon's certificate), STEWARD_CT_TOKEN_ADMIN,
  STEWARD_CT_TOKEN_OPERATOR, STEWARD_CT_TOKEN_MONITOR, STEWARD_CT_BUILD,
  and on PATH: ct-run ARGV… (runs ARGV inside the container) and
  ct-steward [ARG…] (steward on the host against it, the admin's token, or
  STEWARD_CT_ROLE's).

--build defaults to `build` (the release build: benchmarks measure the
product, not the sanitizers); the daemon's state is the container's own.
Prints the boot time, then whatever the script prints.  Needs root.
"""
import argparse
import importlib.util
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
import systemd_ct as sct  # noqa: E402
from container import PATH as INSIDE_PATH  # noqa: E402


def add_helpers(ct, bindir):
    """ct.inside / ct.steward argv builders, and the same as two scripts."""
    def inside(*argv):
        return ["nsenter", "-t", str(ct.leader), "-a", "--root", "--wd", "--", "/usr/bin/env", "-i",
                "PATH=" + INSIDE_PATH, "LANG=C.UTF-8", "HOME=/root", *argv]

    def steward(*args, role="admin"):
        return ["/usr/bin/env", f"STEWARD_TOKEN={ct.token(role)}", f"HOME={ct.tmp / 'home'}",
                f"XDG_CONFIG_HOME={ct.tmp / 'home' / '.config'}", str(ct.build / "steward"),
                "-H", f"{ct.ip}:{sct.PORT}", "--fingerprint", ct.fingerprint, *args]

    ct.inside, ct.steward = inside, steward
    ct.steward_inside = sct.BUILD_INSIDE + "/steward"
    bindir.mkdir(exist_ok=True)
    scripts = {
        "ct-run": f'#!/bin/sh\nexec nsenter -t {ct.leader} -a --root --wd -- /usr/bin/env -i '
                  f'PATH={INSIDE_PATH} LANG=C.UTF-8 HOME=/root "$@"\n',
        "ct-steward": '#!/bin/sh\ncase ${STEWARD_CT_ROLE:-admin} in\n'
                      '  admin) token=$STEWARD_CT_TOKEN_ADMIN ;;\n'
                      '  operator) token=$STEWARD_CT_TOKEN_OPERATOR ;;\n'
                      '  monitor) token=$STEWARD_CT_TOKEN_MONITOR ;;\n'
                      '  *) echo "ct-steward: STEWARD_CT_ROLE is admin, operator or monitor" >&2; exit 2 ;;\n'
                      'esac\n'
                      f'STEWARD_TOKEN=$token HOME={ct.tmp / "home"} exec {ct.build / "steward"} '
                      f'-H {ct.ip}:{sct.PORT} --fingerprint {ct.fingerprint} "$@"\n',
    }
    for name, text in scripts.items():
        (bindir / name).write_text(text)
        (bindir / name).chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def main():
    ap = argparse.ArgumentParser(description="run a benchmark against the booted systemd container")
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    build = Path(a.build).resolve()
    sct.BUILD = build
    reason = sct.unavailable()
    if reason:
        sys.exit(f"run-container: {reason}")
    t = time.monotonic()
    root = sct.build_root(sct.PACKAGES)
    ct = sct.SystemdCt(root, build).start()
    try:
        print(f"container: root {time.monotonic() - t - sct.STATS['daemon_seconds']:.1f} s, boot "
              f"{sct.STATS['boot_seconds']:.1f} s, stewardd ready {sct.STATS['daemon_seconds']:.1f} s "
              f"({build.name}, {ct.ip})", flush=True)
        add_helpers(ct, ct.tmp / "bin")
        script = Path(a.script)
        if script.suffix == ".py":
            spec = importlib.util.spec_from_file_location(script.stem.replace("-", "_"), script)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            rc = mod.main(ct, a.args) or 0
        else:
            env = dict(os.environ)
            env.update(STEWARD_CT_IP=ct.ip, STEWARD_CT_PORT=str(sct.PORT), STEWARD_CT_URL=ct.url,
                       STEWARD_CT_FINGERPRINT=ct.fingerprint, STEWARD_CT_CERT=ct.cert_path,
                       STEWARD_CT_BUILD=str(build), PATH=f"{ct.tmp / 'bin'}:{env.get('PATH', '')}")
            for role in sct.ROLES:
                env[f"STEWARD_CT_TOKEN_{role.upper()}"] = ct.token(role)
            rc = subprocess.run([str(script.resolve()), *a.args], env=env).returncode
    finally:
        # A release build has no sanitizer to check; the teardown still
        # checks that stewardd exits 0 and nothing is left behind.
        ct.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
