"""What `make install` puts where (meson install into a DESTDIR, here from
the test build), and the units agreeing with the daemon: the sockets
stewardd.socket holds are the daemon's defaults (stewardd --help), the
service runs the installed binary, and the sysusers.d file creates the
user the front runs as and the groups of the default roles."""
import re
import subprocess
from pathlib import Path

from conftest import BUILD, ROOT, STEWARDD


def unit_values(path, key):
    return [l.split("=", 1)[1].strip() for l in Path(path).read_text().splitlines()
            if l.startswith(key + "=")]


def test_meson_install_puts_everything_in_place(tmp_path):
    dest = tmp_path / "root"
    p = subprocess.run(["meson", "install", "-C", str(BUILD), "--no-rebuild", "--destdir", str(dest)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    prefix = subprocess.run(["meson", "introspect", "--buildoptions", str(BUILD)],
                            capture_output=True, text=True, check=True).stdout
    prefix = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix).group(1)
    pre = dest / prefix.lstrip("/")
    for f in ("sbin/stewardd", "bin/steward", "share/man/man1/steward.1", "share/man/man8/stewardd.8",
              "lib/systemd/system/stewardd.service", "lib/systemd/system/stewardd.socket",
              "lib/sysusers.d/steward.conf"):
        assert (pre / f).is_file(), f
    # /etc whatever the prefix: where PAM, fail2ban and stewardd look.
    for f in ("etc/pam.d/steward", "etc/steward/stewardd.conf", "etc/fail2ban/filter.d/steward.conf",
              "etc/fail2ban/jail.d/steward.conf"):
        assert (dest / f).is_file(), f
    assert (dest / "etc/steward/stewardd.conf").read_text() == (ROOT / "data/stewardd.conf").read_text()
    # The unit starts the daemon where it was installed.
    assert unit_values(pre / "lib/systemd/system/stewardd.service", "ExecStart") == \
        [f"{prefix}/sbin/stewardd"]


def test_the_socket_unit_holds_the_daemons_default_sockets():
    help_text = subprocess.run([str(STEWARDD), "--help"], capture_output=True, text=True).stdout
    unit = ROOT / "dist/systemd/stewardd.socket"
    streams = unit_values(unit, "ListenStream")
    datagrams = unit_values(unit, "ListenDatagram")
    tcp_default = re.search(r"\(default (\S+) and (\S+)\)", help_text).groups()
    sock_default = re.search(r"--socket PATH .*\(default (\S+)\)", help_text).group(1)
    udp_port = re.search(r"--udp .*\n.*\(default :(\d+)\)", help_text).group(1)
    assert sorted(streams) == sorted([*tcp_default, sock_default])
    assert sorted(datagrams) == sorted([f"0.0.0.0:{udp_port}", f"[::]:{udp_port}"])
    # One socket per family, as the daemon binds them itself.
    assert unit_values(unit, "BindIPv6Only") == ["ipv6-only"]
    assert unit_values(unit, "SocketMode") == ["0666"]


def test_the_service_and_sysusers_match_the_daemon():
    service = ROOT / "dist/systemd/stewardd.service.in"
    assert unit_values(service, "ExecStart") == ["@sbindir@/stewardd"]
    assert unit_values(service, "Type") == ["notify"]
    assert unit_values(service, "Restart") == ["on-failure"]
    help_text = subprocess.run([str(STEWARDD), "--help"], capture_output=True, text=True).stdout
    user = re.search(r"--user NAME .*\(default (\S+)\)", help_text).group(1)
    sysusers = (ROOT / "dist/sysusers.d/steward.conf").read_text().splitlines()
    lines = [l.split() for l in sysusers if l and not l.startswith("#")]
    entries = {tuple(l[:2]) for l in lines}
    # Each entry once (a repeated line is a merge left over, not a second grant).
    assert len(lines) == len({tuple(l) for l in lines}), sysusers
    assert ("u", user) in entries
    assert ["m", user, "systemd-journal"] in lines
    for g in ("steward-admin", "steward-operator", "steward-monitor"):
        assert ("g", g) in entries
