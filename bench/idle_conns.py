"""Opens N idle TLS keep-alive connections (each has made one request) to
HOST:PORT with the bearer TOKEN and prints the daemon's resident memory while they are open."""
import socket
import ssl
import sys

host, port, n, cafile, pid, token = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]


def rss():
    total = 0
    for p in pid.split():
        for line in open(f"/proc/{p}/status"):
            if line.startswith("VmRSS"):
                total += int(line.split()[1])
    return total


ctx = ssl.create_default_context(cafile=cafile)
held = []
for _ in range(n):
    s = ctx.wrap_socket(socket.create_connection((host, port)), server_hostname=host)
    s.sendall(f"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    s.recv(4096)
    held.append(s)
print(f"stewardd with {n} idle TLS connections (helper + front): {rss()} kB")
for s in held:
    s.close()
