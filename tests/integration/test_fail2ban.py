"""The fail2ban filter shipped in data/fail2ban against the lines stewardd
writes for failed logins: syslog and stderr forms, IPv4 and IPv6 sources.
Every failure line must match and yield the bare address (no brackets, no
port); other lines, and addresses planted in a user name, must not.

Runs Debian's real fail2ban-regex.  `make test` installs fail2ban
(scripts/install-deps.sh), so its absence is a failure, not a skip.
"""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILTER = ROOT / "data" / "fail2ban" / "filter.d" / "steward.conf"
FAIL2BAN_REGEX = Path("/usr/bin/fail2ban-regex")
COMMON_CONF = Path("/etc/fail2ban/filter.d/common.conf")

SYSLOG = "Nov 26 03:32:25 srv stewardd[1234]: "
STDERR = "2026-11-26T03:32:25Z stewardd[warning]: "
# What fail2ban's systemd backend hands the filter (no date; logtype=journal).
JOURNAL = "srv stewardd[1234]: "
JOURNAL_STDERR = "srv stewardd[1234]: 2026-11-26T03:32:25Z stewardd[warning]: "

# (message, the address fail2ban must report)
FAILURES = [
    ("authentication failed from 192.0.2.7:51234: invalid token", "192.0.2.7"),
    ("authentication failed from [2001:db8::1]:51234: invalid token", "2001:db8::1"),
    ('login failed for user "alice" from 192.0.2.7:51234: wrong user or password', "192.0.2.7"),
    ('login failed for user "alice" from [2001:db8::1]:51234: wrong user or password',
     "2001:db8::1"),
    ('login failed for user "bob" from 198.51.100.20:4431: account locked or not allowed to log in',
     "198.51.100.20"),
    ('login failed for user "bob" from [2001:db8:0:1::20]:4431: account expired',
     "2001:db8:0:1::20"),
    ('login failed for user "carol" from 192.0.2.8:1: too many failed logins: retry in 4 s',
     "192.0.2.8"),
    ('login failed for user "carol" from [2001:db8::8]:1: too many failed logins: blocked for 900 s',
     "2001:db8::8"),
    ('login failed for user "bootstrap" from 192.0.2.9:60000: invalid bootstrap token',
     "192.0.2.9"),
    ('login failed for user "nora" from 192.0.2.11:443: right password, but no Steward role',
     "192.0.2.11"),
    ('login failed for user "root" from [2001:db8::11]:443: right password, but root login is '
     'disabled (stewardd:auth:allow_root_login)', "2001:db8::11"),
    # A user name imitating the tail of the line: the real source still wins.
    ('login failed for user "x" from 203.0.113.66:1: wrong user or password" from '
     '192.0.2.10:2: wrong user or password', "192.0.2.10"),
]

IGNORED = [
    'login of "alice" (admin) from 192.0.2.7:51234',
    'login refused for user "alice" from 192.0.2.7:51234: no Steward role',
    'login failed for user "root" from unix:uid=0,pid=77: wrong user or password',
    # An address planted in the user name of a login that has none.
    'login failed for user "x" from 203.0.113.66:1: wrong user or password" from '
    'unix:uid=1000,pid=5: wrong user or password',
    "listening on 192.0.2.7:660",
    # The audit line of a refused login: the "login failed" line counts it.
    'audit record 17: auth login by "nora" from 192.0.2.11:443: refused: no Steward role',
]


@pytest.fixture
def filter_path(tmp_path):
    """The filter in a config tree of its own, beside fail2ban's common.conf."""
    for need in (FAIL2BAN_REGEX, COMMON_CONF):
        assert need.exists(), f"{need} is missing (Debian package fail2ban): scripts/install-deps.sh test"
    d = tmp_path / "fail2ban" / "filter.d"
    d.mkdir(parents=True)
    (d / "steward.conf").write_text(FILTER.read_text())
    os.symlink(COMMON_CONF, d / "common.conf")
    return d / "steward.conf"


def addresses(tmp_path, filter_path, lines, logtype=None):
    """The address fail2ban-regex reports for each matching line, in order."""
    log = tmp_path / "steward.log"
    log.write_text("".join(l + "\n" for l in lines))
    args = [str(FAIL2BAN_REGEX), "-o", "ip"]
    spec = str(filter_path)
    if logtype:
        args += ["-d", "{NONE}"]
        spec += f"[logtype={logtype}]"
    p = subprocess.run(args + [str(log), spec], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


@pytest.mark.parametrize("prefix", [SYSLOG, STDERR], ids=["syslog", "stderr"])
def test_failures_match_file(tmp_path, filter_path, prefix):
    got = addresses(tmp_path, filter_path, [prefix + m for m, _ in FAILURES])
    assert got == [a for _, a in FAILURES]


@pytest.mark.parametrize("prefix", [JOURNAL, JOURNAL_STDERR], ids=["journal", "journal-stderr"])
def test_failures_match_journal(tmp_path, filter_path, prefix):
    got = addresses(tmp_path, filter_path, [prefix + m for m, _ in FAILURES], logtype="journal")
    assert got == [a for _, a in FAILURES]


@pytest.mark.parametrize("prefix", [SYSLOG, STDERR], ids=["syslog", "stderr"])
def test_other_lines_do_not_match(tmp_path, filter_path, prefix):
    assert addresses(tmp_path, filter_path, [prefix + m for m in IGNORED]) == []


def test_other_daemons_do_not_match(tmp_path, filter_path):
    lines = [
        "Nov 26 03:32:25 srv sshd[99]: authentication failed from 192.0.2.7:51234: invalid token",
        "Nov 26 03:32:25 srv other[1]: login failed for user \"a\" from 192.0.2.7:1: "
        "wrong user or password",
    ]
    assert addresses(tmp_path, filter_path, lines) == []
