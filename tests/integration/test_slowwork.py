"""Slow requests do not hold fast ones: while GET /api/v1/users/root?home_size=1
walks a large home, whoami is answered, and past the bound on slow requests
in flight the next one is refused with 503 and Retry-After instead of queuing.

The daemon runs in private mount and UTS namespaces over a scratch /etc, with a
scratch directory of many files bound over /root.  To hold the slow requests
in flight for as long as the test needs, without timing anything, the test
freezes (SIGSTOP) whichever of the daemon's processes has a directory of that
home open, i.e. whoever walks it, and thaws them at the end."""
import concurrent.futures
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import UnixHTTPConnection

pytestmark = pytest.mark.namespaces

FILES = 40000
SLOW_PATH = "/api/v1/users/root?home_size=1"
SLOW_POOL_MAX = 64  # SLOW_JOBS_MAX in src/daemon/http.c


def make_tree(root, n, per_dir=1000):
    root.mkdir()
    for d in range(n // per_dir):
        sub = root / f"d{d:03d}"
        sub.mkdir()
        fd = os.open(sub, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for i in range(per_dir):
                os.close(os.open(f"f{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=fd))
        finally:
            os.close(fd)


@pytest.fixture
def bigroot(daemon_base, make_daemon):
    """A daemon whose /root is a scratch tree of FILES files."""
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    tree = daemon_base / "ns" / "root"
    make_tree(tree, FILES)
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv, extra_binds=[(tree, "/root")]))
    d.token  # log in before anything is frozen
    return d


def slow_get(d, unix=False):
    """The slow request, on a connection that waits long enough for it (the
    fixture's 10 s would not, behind dozens of walks)."""
    if unix:
        return d._do(UnixHTTPConnection(d.sock, timeout=300), "GET", SLOW_PATH, None, False,
                     None, None)
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(), timeout=300)
    return d._do(conn, "GET", SLOW_PATH, None, True, None, None)


def tree_pids(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo += [int(k) for k in kids]
    return out


def walking(pid):
    """Whether process pid has a directory under /root open (its view)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("/root/d"):
                return True
        except OSError:
            pass
    return False


def freeze_walkers(d, want, settle=5.0, give_up=60.0):
    """Stops the daemon's processes that walk the home, as they appear: until
    `want` are stopped, or none more appeared for `settle` seconds after the
    first.  Returns the stopped pids."""
    frozen, start, last = set(), time.monotonic(), None
    while len(frozen) < want:
        now = time.monotonic()
        if (last and now - last > settle) or now - start > give_up:
            break
        for p in tree_pids(d.proc.pid):
            if p not in frozen and walking(p):
                os.kill(p, signal.SIGSTOP)
                frozen.add(p)
                last = time.monotonic()
        time.sleep(0.005)
    return frozen


def thaw(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGCONT)
        except ProcessLookupError:
            pass


def test_whoami_is_answered_while_home_walks_are_in_flight(bigroot):
    d = bigroot
    slow = 8
    with concurrent.futures.ThreadPoolExecutor(slow) as pool:
        futures = [pool.submit(slow_get, d) for _ in range(slow)]
        frozen = freeze_walkers(d, want=4)
        try:
            assert frozen, "no process walked the home"
            # Every slow request is still in flight: its walker is stopped.
            whoami = [d.https("GET", "/api/v1/whoami") for _ in range(20)]
            assert [r.status for r in whoami] == [200] * 20, whoami
            assert not any(f.done() for f in futures)
            # Other reads too, and a session check of a fresh login.
            assert d.https("GET", "/api/v1/modules/system").status == 200
            tok = d.https("POST", "/api/v1/tokens", {"name": "t", "role": "monitor"}).json["token"]
            assert d.https("GET", "/api/v1/whoami", token=tok).json["role"] == "monitor"
            # Hold the walks past their one-second budget (users.c).
            time.sleep(1.5)
        finally:
            thaw(frozen)
        results = [f.result() for f in futures]
    assert [r.status for r in results] == [200] * slow, results
    # A walk stopped past its budget reports a lower bound, marked so.
    sizes = [r.json for r in results]
    assert all(isinstance(u["home_size"], int) and u["home_size"] > 0 for u in sizes)
    assert any(u.get("home_size_partial") is True for u in sizes), sizes
    assert len(frozen) >= 2, "slow requests did not run side by side"


def test_slow_requests_past_the_bound_get_503_with_retry_after(bigroot):
    d = bigroot
    n = SLOW_POOL_MAX + 8
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        first = [pool.submit(slow_get, d, True) for _ in range(4)]
        frozen = freeze_walkers(d, want=4)
        try:
            assert frozen, "no process walked the home"
            rest = [pool.submit(slow_get, d, True) for _ in range(n - 4)]
            # Those over the bound are answered at once, while the others wait.
            refused = []
            for f in concurrent.futures.as_completed(rest):
                r = f.result()
                assert r.status == 503, r
                refused.append(r)
                if len(refused) == n - SLOW_POOL_MAX:
                    break
            assert all(r.headers.get("Retry-After") == "1" for r in refused), refused
            assert refused[0].json["error"]["code"] == "too_many_slow_requests"
            assert d.https("GET", "/api/v1/whoami").status == 200
        finally:
            thaw(frozen)
        results = [f.result() for f in first + rest]
    assert sum(r.status == 200 for r in results) == SLOW_POOL_MAX, results
    assert sum(r.status == 503 for r in results) == n - SLOW_POOL_MAX


def test_a_worker_that_dies_is_answered_500_and_the_daemon_goes_on(bigroot):
    d = bigroot
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        f = pool.submit(slow_get, d)
        frozen = freeze_walkers(d, want=1)
        try:
            assert len(frozen) == 1, frozen
            (walker,) = frozen
            assert walker != d.proc.pid, "the helper itself walks the home"
            os.kill(walker, signal.SIGKILL)
        finally:
            thaw(frozen)
        r = f.result()
    assert r.status == 500 and r.json["error"]["code"] == "internal", r
    # The same channels serve on: the read again, and a fast request.
    r = slow_get(d)
    assert r.status == 200 and r.json["name"] == "root", r
    assert d.https("GET", "/api/v1/whoami").status == 200
    assert "a worker failed" in d.log_text()
