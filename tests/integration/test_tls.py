"""TLS on the network listener, as a hardened service offers it (DESIGN.md,
src/daemon/tls.h): TLS 1.3 preferred, TLS 1.2 only with ECDHE and AEAD
suites, the server's order, no renegotiation started by a client.

Direct cases with Python's ssl module and `openssl s_client`, then one run
of Debian's testssl.sh against a daemon on loopback, whose findings must hold
nothing of severity LOW or above beyond what a pinned self-signed certificate
implies (ALLOWED, each with its reason).  testssl.sh is told not to resolve
names (--nodns none, --ip) and contacts no OCSP or CRL server (that needs
--phone-out), so it reaches only the daemon.  `make test` installs it
(scripts/install-deps.sh), so its absence is a failure, not a skip.
"""
import json
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

OPENSSL = "/usr/bin/openssl"
TESTSSL = "/usr/bin/testssl"

# What testssl.sh reports about a self-signed certificate that clients pin
# by its SHA-256 fingerprint (steward login, the console's first visit).
ALLOWED = {
    "cert_chain_of_trust": "self-signed: no CA vouches for it, the client pins its fingerprint",
    "cert_trust": "the same: trust comes from the pin, not from a chain",
    "cert_revocation": "no CRL or OCSP URI: a pinned certificate is withdrawn by replacing the key "
                       "and the pins, not through a CA",
    "OCSP_stapling": "nothing to staple without an OCSP responder",
    "cert_ocspURL": "no OCSP responder for a self-signed certificate",
    "cert_crlDistributionPoints": "no CRL for a self-signed certificate",
    "certificate_transparency": "CT logs only certificates from public CAs",
    "cert_validityPeriod": "the certificate lives ten years: renewing it would break every client's "
                           "pin, and a CA's lifetime limit does not apply to it",
    "cert_caIssuers": "no issuer certificate to fetch: it is its own issuer",
    "engine_problem": "a warning about the local OpenSSL (no GOST engine), not about the server",
}
SEVERE = ("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN", "FATAL")

CBC_SUITES = ("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:"
              "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-SHA256:"
              "AES128-SHA:AES256-SHA:DHE-RSA-AES128-SHA256")


def tls12_context(ciphers):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    return ctx


def handshake(d, ctx):
    """(version, cipher) that the daemon agreed to with this client."""
    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.version(), s.cipher()[0]


def test_tls13_is_preferred(daemon):
    ctx = ssl.create_default_context(cafile=daemon.cert_path)
    assert handshake(daemon, ctx)[0] == "TLSv1.3"


def test_tls12_client_with_only_cbc_suites_is_refused(daemon):
    with pytest.raises(ssl.SSLError):
        handshake(daemon, tls12_context(CBC_SUITES))
    # Offered beside an AEAD suite, the CBC suites are passed over.
    assert handshake(daemon, tls12_context(CBC_SUITES + ":ECDHE-ECDSA-AES128-GCM-SHA256")) == \
        ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")


def test_tls12_server_order_wins(daemon):
    for client_order in ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                         "ECDHE-ECDSA-AES256-GCM-SHA384",
                         "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384"):
        assert handshake(daemon, tls12_context(client_order)) == \
            ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"), client_order


def test_tls13_server_order_wins(daemon):
    p = subprocess.run([OPENSSL, "s_client", "-tls1_3", "-connect", f"127.0.0.1:{daemon.port}",
                        "-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                                         "TLS_AES_256_GCM_SHA384"],
                       input="", capture_output=True, text=True, timeout=30)
    assert "Cipher is TLS_AES_256_GCM_SHA384" in p.stdout, p.stdout + p.stderr


def s_client_request(port, renegotiate):
    """Runs `openssl s_client -tls1_2`, asks for a renegotiation (its "R"
    command) when told to, then sends a request; returns what s_client
    printed.  A server that refuses the renegotiation closes the connection
    and no HTTP answer follows; one that accepts it answers the request."""
    p = subprocess.Popen([OPENSSL, "s_client", "-tls1_2", "-connect", f"127.0.0.1:{port}"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    guard = threading.Timer(60, p.kill)  # a safety net against a hang, not a timing
    guard.start()
    out = []
    try:
        for line in p.stdout:  # up to the end of the handshake's summary
            out.append(line)
            if line.startswith("    Verify return code"):
                break
        if renegotiate:
            # s_client drops whatever else the line's read held: send the
            # request only once it has taken up the R.
            p.stdin.write("R\n")
            p.stdin.flush()
            for line in p.stdout:
                out.append(line)
                if line.startswith("RENEGOTIATING"):
                    break
        p.stdin.write("GET /api/v1/whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        p.stdin.flush()
        for line in p.stdout:
            out.append(line)
            if line.startswith("HTTP/1."):
                break
    finally:
        guard.cancel()
        p.kill()
        p.wait()
    return "".join(out)


def test_client_initiated_renegotiation_is_refused(daemon):
    plain = s_client_request(daemon.port, renegotiate=False)
    assert "HTTP/1.1 401" in plain, plain  # the harness does see an answer
    renego = s_client_request(daemon.port, renegotiate=True)
    assert "RENEGOTIATING" in renego, renego
    assert "HTTP/1." not in renego, renego


def test_testssl_finds_nothing_beyond_the_pinned_certificate(daemon, tmp_path):
    assert shutil.which(TESTSSL), f"{TESTSSL} is missing: scripts/install-deps.sh test"
    report = tmp_path / "testssl.json"
    p = subprocess.run(
        [TESTSSL, "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
         "--ip", "127.0.0.1", "--connect-timeout", "10", "--openssl-timeout", "10",
         "--protocols", "--std", "--server-preference", "--server-defaults", "--vulnerable",
         "--jsonfile", str(report), f"127.0.0.1:{daemon.port}"],
        # A guard against a hang, not a timing: about 1.5 min on an idle
        # machine of two cores, ten times that when it is shared.
        cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert report.exists(), p.stdout + p.stderr
    findings = json.loads(report.read_text())
    by_id = {f["id"]: f for f in findings}
    # The scan ran through: the sections asked for are in the report.
    for need in ("TLS1_2", "TLS1_3", "cipherlist_STRONG", "cipher_order", "secure_client_renego",
                 "cert_chain_of_trust", "LUCKY13"):
        assert need in by_id, (need, p.stdout)
    renego = by_id["secure_client_renego"]
    if renego["severity"] != "OK":
        # testssl.sh 3.0.8 pipes "R" into s_client and reads its exit
        # status.  A server that ends the connection on the renegotiation
        # (close_notify: s_client prints "closed" and exits 0) is called
        # vulnerable whenever s_client's first try saw the end of its input
        # before the server's answer (it prints "DONE" then), since the
        # retry with four R's heeds only the exit status.  Decide it with
        # the direct check instead: after R, no request is answered.
        out = s_client_request(daemon.port, renegotiate=True)
        assert "RENEGOTIATING" in out and "HTTP/1." not in out, out
        findings = [f for f in findings if f is not renego]
    bad = [f"{f['severity']} {f['id']}: {f['finding']}" for f in findings
           if f["severity"] in SEVERE and f["id"] not in ALLOWED]
    assert not bad, "testssl.sh findings:\n" + "\n".join(bad) + "\n\n" + p.stdout
    assert by_id["TLS1_3"]["severity"] == "OK" and by_id["TLS1_3"]["finding"].startswith("offered")
    for weak in ("TLS1", "TLS1_1", "cipherlist_AVERAGE", "cipherlist_3DES_IDEA", "cipherlist_LOW"):
        assert by_id[weak]["finding"].startswith("not offered"), by_id[weak]
