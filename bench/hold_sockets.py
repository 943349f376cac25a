"""Holds N listening TCP sockets on 127.0.0.1 (port 0) for bench/ports.sh.

Raises RLIMIT_NOFILE to fit (root may raise the hard limit too), opens the
sockets, prints "ready PID" on stdout, and keeps them open until its
standard input is closed or it is killed.  Usage: hold_sockets.py N
"""
import resource
import socket
import sys


def main():
    n = int(sys.argv[1])
    need = n + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            if hard < need:
                sys.exit(f"hold_sockets: RLIMIT_NOFILE hard limit {hard} < {need}")
    held = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        held.append(s)
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
