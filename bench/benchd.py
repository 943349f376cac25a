"""Shared by the Python benchmarks that run stewardd over a scratch /etc
(bench/login.py, bench/slow.py): one daemon of a given build, everything
under one directory."""
import os
import socket
import ssl
import subprocess
import time

from nsroot import ns_argv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stewardd:
    """stewardd of build with its state, TLS identity, socket, config and
    log under d (made here), run in the scratch /etc etc (and extra_binds);
    ready once it listens.  ctx: an SSL context that trusts its certificate."""

    def __init__(self, build, d, etc, extra_binds=()):
        d.mkdir()
        os.chmod(d, 0o755)
        self.dir = d
        self.port, self.sock = free_port(), str(d / "s.sock")
        (d / "stewardd.conf").write_text('log_level = "warning"\n')
        argv = [str(build / "stewardd"), "--foreground", "--listen", f"127.0.0.1:{self.port}",
                "--udp", "off", "--socket", self.sock, "--state-dir", str(d / "state"),
                "--tls-dir", str(d / "tls"), "--config", str(d / "stewardd.conf")]
        self.log = open(d / "stewardd.log", "wb")
        self.proc = subprocess.Popen(ns_argv(etc, argv, extra_binds=list(extra_binds)),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(1000):
            if os.path.exists(self.sock) and (d / "tls" / "cert.pem").exists():
                break
            time.sleep(0.02)
        time.sleep(0.3)
        self.ctx = ssl.create_default_context(cafile=str(d / "tls" / "cert.pem"))
        self.ctx.check_hostname = False
