"""Run a command with a scratch copy of /etc, in private mount and UTS
namespaces, so that tests which change the system never touch the host.

    etc = scratch_etc(tmp_path)              # tmp_path/etc, a `cp -a` of /etc
    argv = ns_argv(etc, [stewardd, ...])     # run it with etc bound over /etc
                                             # and a scratch /home

The returned argv starts `unshare --mount --uts --propagation private`, which
runs this file as a script inside the new namespaces: it bind-mounts the
scratch directory over /etc and then execs the command, so the command keeps
the process id that Popen reports (for `nsenter -t PID`).  A copy of the whole
directory is bound, not single files, because tools replace files in /etc by
rename(), which fails on a file bind mount.
"""
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOL_STATE = ("/var/lib/nfs", "/var/lib/samba", "/var/cache/samba", "/run/samba",
              "/var/spool/postfix", "/var/lib/postfix")


def scratch_etc(tmp_path):
    """Copies /etc (modes, owners, links kept) to tmp_path/etc; returns it."""
    dst = Path(tmp_path) / "etc"
    subprocess.run(["cp", "-a", "--", "/etc", str(dst)], check=True)
    return dst


def ns_argv(scratch_etc_dir, argv, home=None, extra_binds=()):
    """The argv that runs `argv` with scratch_etc_dir mounted on /etc, a
    scratch directory on /home (home, or else an empty "home" beside the
    scratch /etc: an account made in there must not get its home on the
    host), and each (source, target) of extra_binds, in new private mount
    and UTS namespaces."""
    if home is None:
        home = Path(scratch_etc_dir).parent / "home"
        home.mkdir(mode=0o755, exist_ok=True)
    binds = ["--bind", str(scratch_etc_dir), "/etc", "--bind", str(home), "/home"]
    # State that a change's tools write beside /etc (exportfs's table,
    # Samba's databases and sockets): empty scratch directories unless the
    # caller binds its own, so that no test writes the host's.
    own = {str(target) for _, target in extra_binds}
    for target in TOOL_STATE:
        if target not in own and os.path.isdir(target):
            scratch = Path(scratch_etc_dir).parent / ("state" + target.replace("/", "-"))
            scratch.mkdir(mode=0o755, exist_ok=True)
            binds += ["--bind", str(scratch), target]
    for src, target in extra_binds:
        binds += ["--bind", str(src), str(target)]
    return [
        "unshare", "--mount", "--uts", "--propagation", "private", "--",
        "/usr/bin/python3", str(HERE / "nsroot.py"),
        *binds,
        "--", *[str(a) for a in argv],
    ]


def main(args):
    binds = []
    while len(args) >= 3 and args[0] == "--bind":
        binds.append((args[1], args[2]))
        args = args[3:]
    if not binds or len(args) < 2 or args[0] != "--":
        sys.exit("usage: nsroot.py --bind SCRATCH TARGET [--bind …] -- ARGV...")
    argv = args[1:]
    # Never mount over the host's /etc: only run in a mount namespace other
    # than the caller's (unshare execs us, so our parent is the caller).
    if os.readlink("/proc/self/ns/mnt") == os.readlink(f"/proc/{os.getppid()}/ns/mnt"):
        sys.exit("nsroot.py: not in a private mount namespace; run it through ns_argv()")
    for src, target in binds:
        if not os.path.isdir(src):
            sys.exit(f"nsroot.py: {src!r} is not a directory")
        subprocess.run(["mount", "--bind", "--", src, target], check=True)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
