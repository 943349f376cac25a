"""Alert mail under the packaged unit's sandbox: the daemon runs with
NoNewPrivileges and the unit's CapabilityBoundingSet (read from
dist/systemd/stewardd.service.in, so the test follows the unit), in
mail_ns's namespaces with a real Postfix.  Postfix's setgid postdrop loses
its group under NoNewPrivileges; the helper, root with CAP_DAC_OVERRIDE,
must still get a mail into a mailbox (docs/packaging.md).

The alert is the shipped disk-full rule on a tmpfs filled over 90 %.
"""
import re
from pathlib import Path

import pytest

from conftest import Daemon
from mail_ns import MailNs, _tools_missing, host_mail_state
from nsroot import ns_argv
from test_alert_notify import mail_subjects, set_settings, wait_for

UNIT = Path(__file__).resolve().parents[2] / "dist/systemd/stewardd.service.in"


def unit_sandbox():
    """setpriv's argv for the unit's NoNewPrivileges and bounding set."""
    text = UNIT.read_text()
    assert re.search(r"^NoNewPrivileges=yes$", text, re.M)
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M).group(1).split()
    keep = ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
    return ["/usr/bin/setpriv", "--no-new-privs", f"--bounding-set=-all,{keep}", "--"]


class SandboxedMailNs(MailNs):
    def _start_daemon(self):
        self.daemon = Daemon(self.base / "d")
        self.daemon.wrap = lambda argv: ns_argv(self.etc, unit_sandbox() + list(argv),
                                                home=self.home, extra_binds=self.binds)
        self.daemon.start()


@pytest.fixture(scope="module")
def sandboxed():
    import os
    import shutil
    import tempfile
    if os.geteuid() != 0 or _tools_missing() or not shutil.which("setpriv"):
        pytest.skip("needs root, setpriv and the mail tools (scripts/install-deps.sh test)")
    base = Path(tempfile.mkdtemp(prefix="steward-mailnnp-"))
    os.chmod(base, 0o755)
    before = host_mail_state()
    m = SandboxedMailNs(base)
    try:
        m.start()
        yield m
    finally:
        try:
            m.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)
    assert host_mail_state() == before


def status_of(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def descendants(pid):
    out, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        out += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return out


def test_helper_is_sandboxed_as_the_unit(sandboxed):
    """The helper (stewardd as root) has no_new_privs and the unit's
    bounding set: CAP_DAC_OVERRIDE (bit 1) in it, CAP_NET_ADMIN (12) not."""
    helpers = [s for s in map(status_of, descendants(sandboxed.daemon.proc.pid))
               if s["Name"] == "stewardd" and s["Uid"].split()[0] == "0"]
    assert helpers
    for s in helpers:
        bnd = int(s["CapBnd"], 16)
        assert s["NoNewPrivs"] == "1", s
        assert bnd & (1 << 1) and not bnd & (1 << 12), s["CapBnd"]


def test_mail_under_no_new_privileges(sandboxed):
    m = sandboxed
    user, pw = m.add_user("nnpmail", "Nnpmail-pw-1")
    mnt = "/mnt/steward-alert-nnp"
    m.run_in_ns("mkdir", "-p", mnt, check=True)
    m.run_in_ns("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt, check=True)
    try:
        set_settings(m, "alerts", {"mail_to": [f"{user}@{m.domain}"]})
        m.run_in_ns("dd", "if=/dev/zero", f"of={mnt}/fill", "bs=1k", "count=3800", check=True)
        wait_for("the mail", lambda: [s for s in mail_subjects(m, user, pw,
                                                               "[FIRING] disk-full on ")
                                      if mnt in s], timeout=90)
        st = m.api("GET", "/api/v1/modules/alerts?full=1").json["notifications"]["mail"]
        assert st["sent"] >= 1 and st["last_error"] is None, st
    finally:
        set_settings(m, "alerts", {"mail_to": []})
        m.run_in_ns("rm", "-f", f"{mnt}/fill")
        m.run_in_ns("umount", mnt)
