"""Holds N authenticated TLS keep-alive connections to a stewardd for
bench/idle-conns.sh, while the script measures the daemon's memory.

Modes:
  idle    each connection makes one request (GET /api/v1/whoami with the
          bearer TOKEN), reads the whole answer, and then stays open, idle
  events  each connection opens an event stream (GET /api/v1/events,
          samples only) and reads it: one thread drains every stream so
          that none is dropped as too slow

Raises RLIMIT_NOFILE to fit, prints "ready" on stdout once every connection
is in its state, and holds them until its standard input is closed.
Usage: idle_conns.py MODE HOST PORT CAFILE TOKEN N
A HOST that starts with "/" is the daemon's local socket (plain HTTP, no
TLS; PORT, CAFILE and TOKEN are then ignored): the difference is TLS's part.
"""
import resource
import selectors
import socket
import ssl
import sys
import threading


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))


def read_head(s, size, what):
    """Reads up to the end of an HTTP answer's head, which must say 200:
    (head, the bytes after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(size)
        if not chunk:
            raise RuntimeError(f"{what} closed before its head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
    return head, rest


def read_answer(s):
    """Reads one whole HTTP answer with a Content-Length (whoami's)."""
    head, body = read_head(s, 65536, "connection")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed in the body")
        body += chunk




def drain(held, stop):
    sel = selectors.DefaultSelector()
    for s in held:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.5):
            try:
                while key.fileobj.recv(65536):
                    pass
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
            except OSError:
                sel.unregister(key.fileobj)


def main():
    mode, host, port, cafile, token, n = sys.argv[1:7]
    port, n = int(port), int(n)
    if mode not in ("idle", "events"):
        sys.exit("idle_conns.py: MODE is idle or events")
    raise_nofile(n + 64)
    ctx = ssl.create_default_context(cafile=cafile) if not host.startswith("/") else None
    path = "/api/v1/whoami" if mode == "idle" else "/api/v1/events?types=sample"
    req = (f"GET {path} HTTP/1.1\r\nHost: x\r\n"
           + (f"Authorization: Bearer {token}\r\n" if ctx else "")
           + ("Accept: text/event-stream\r\n" if mode == "events" else "") + "\r\n").encode()
    held = []
    for _ in range(n):
        if host.startswith("/"):  # the local socket: plain HTTP, the peer's uid is its identity
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(host)
        else:
            s = ctx.wrap_socket(socket.create_connection((host, port)), server_hostname=host)
        s.sendall(req)
        if mode == "idle":
            read_answer(s)
        else:
            read_head(s, 4096, "stream")
        held.append(s)
    stop = threading.Event()
    t = None
    if mode == "events":
        t = threading.Thread(target=drain, args=(held, stop), daemon=True)
        t.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    stop.set()
    if t:
        t.join()
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
