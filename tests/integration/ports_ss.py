"""What `ss` says is listening, as (proto, address, port) tuples, to compare
with the ports module's listing.

ss_listeners() parses `ss -H -ltnu`: TCP sockets in LISTEN and UDP sockets
that are bound and unconnected (UNCONN).  Addresses come back the way the
module writes them (inet_ntop text): brackets around IPv6 removed, the
"%iface" suffix of a socket bound to a device removed, and ss's "*" (the
IPv6 wildcard of a dual-stack socket) written "::".

Run by hand, `python3 tests/integration/ports_ss.py PORTS_ENUM` compares
that set with `PORTS_ENUM --list` (bench/ports-enum.c) and prints the
differences; sockets opened or closed between the two runs can show up.
"""
import subprocess
import sys


def parse_address(text):
    """Splits ss's "ADDRESS[%IFACE]:PORT" into (address, port)."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"unexpected ss address {text!r}")
    # "127.0.0.1%lo", "[fe80::1]%eth0", "*%eth0": the device is not part of the address.
    if "%" in host:
        host = host.split("%", 1)[0]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "*":
        host = "::"
    return host, int(port)


def parse_ss(output):
    """The (proto, address, port) set of `ss -H -ltnu` output."""
    listeners = set()
    for line in output.splitlines():
        fields = line.split()
        if not fields:
            continue
        # Netid State Recv-Q Send-Q Local Peer [Process]
        if len(fields) < 6 or fields[0] not in ("tcp", "udp"):
            raise ValueError(f"unexpected ss line {line!r}")
        address, port = parse_address(fields[4])
        listeners.add((fields[0], address, port))
    return listeners


def ss_listeners():
    """Listening TCP and bound UDP sockets of this network namespace, from ss."""
    out = subprocess.run(["ss", "-H", "-ltnu"], check=True, capture_output=True, text=True).stdout
    return parse_ss(out)


def _self_test():
    sample = "\n".join([
        "tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*",
        "tcp   LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*",
        "tcp   LISTEN 0      128             [::]:22           [::]:*",
        "tcp   LISTEN 0      511                *:80              *:*",
        "tcp   LISTEN 0      5   [::ffff:127.0.0.1]:631           *:*",
        "udp   UNCONN 0      0     [fe80::1]%eth0:123          [::]:*",
        "udp   UNCONN 0      0          0.0.0.0%eth0:68     0.0.0.0:*",
        "udp   UNCONN 0      0                *%eth0:546          *:*",
    ])
    assert parse_ss(sample) == {
        ("tcp", "0.0.0.0", 22), ("tcp", "127.0.0.53", 53), ("tcp", "::", 22),
        ("tcp", "::", 80), ("tcp", "::ffff:127.0.0.1", 631), ("udp", "fe80::1", 123),
        ("udp", "0.0.0.0", 68), ("udp", "::", 546),
    }, parse_ss(sample)


def main(argv):
    _self_test()
    if len(argv) != 2:
        print(f"usage: {argv[0]} PORTS_ENUM", file=sys.stderr)
        return 2
    ss = ss_listeners()
    out = subprocess.run([argv[1], "--list"], check=True, capture_output=True, text=True).stdout
    ours = set()
    for line in out.splitlines():
        proto, address, port = line.split()
        ours.add((proto, address, int(port)))
    print(f"ss: {len(ss)} listeners, sockets_list: {len(ours)}")
    for t in sorted(ss - ours, key=str):
        print("only in ss:          ", *t)
    for t in sorted(ours - ss, key=str):
        print("only in sockets_list:", *t)
    return 0 if ss == ours else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
