"""Starts a program the way systemd's socket activation does: binds the
sockets named on the command line, puts them at descriptors 3, 4, … in that
order, sets LISTEN_PID (this process, which then execs the program, so the
pid is the program's), LISTEN_FDS and LISTEN_FDNAMES, and execs.

Usage: listenfds.py SPEC… -- PROGRAM ARG…
SPEC: tcp:ADDR:PORT, udp:ADDR:PORT, unix:PATH (stream, mode 0666),
fd:N (a descriptor this process inherited, e.g. a socket the test keeps a
copy of, as systemd does) or file:PATH (a descriptor that is not a socket,
to see it refused)."""
import os
import socket
import sys


def open_spec(spec):
    kind, _, rest = spec.partition(":")
    if kind in ("tcp", "udp"):
        host, _, port = rest.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
        if kind == "tcp":
            s.listen(64)
        return s.detach()
    if kind == "unix":
        if os.path.exists(rest):
            os.unlink(rest)
        os.makedirs(os.path.dirname(rest), exist_ok=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(rest)
        os.chmod(rest, 0o666)
        s.listen(64)
        return s.detach()
    if kind == "fd":
        return os.dup(int(rest))
    if kind == "file":
        return os.open(rest, os.O_RDONLY)
    raise SystemExit(f"listenfds: unknown socket spec {spec!r}")


def main():
    sep = sys.argv.index("--")
    specs, argv = sys.argv[1:sep], sys.argv[sep + 1:]
    fds = [open_spec(s) for s in specs]
    # Out of the way first, then into place: 3, 4, … in order.
    high = [os.dup(fd) for fd in fds]
    for fd in fds:
        os.close(fd)
    high = [os.dup2(fd, 100 + i) or (100 + i) for i, fd in enumerate(high)]
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i, inheritable=True)
        os.close(fd)
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.environ["LISTEN_FDS"] = str(len(specs))
    os.environ["LISTEN_FDNAMES"] = ":".join(s.split(":", 1)[0] for s in specs)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
