"""The Ansible example (docs/ansible/set-setting.yml) with Debian's
ansible-core against three daemons in namespaces (fleet_ns.fleet3, whose
certificates a test CA signed: the playbook verifies them with ca_path):
the first run plans, shows the diffs and changes every host; the setting
reads back changed; a second run changes nothing (changed=0 in the recap);
a refused value fails every host with the server's message and changes
nothing.

Ansible's own files stay in a temporary directory (ANSIBLE_HOME,
ANSIBLE_LOCAL_TEMP, …): nothing is written under the host's ~/.ansible.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from fleet_ns import fleet3  # noqa: F401 (the fixture)

pytestmark = pytest.mark.namespaces

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ansible"


@pytest.fixture(scope="module")
def ansible(fleet3):
    if not shutil.which("ansible-playbook"):
        pytest.skip("needs ansible-core (scripts/install-deps.sh test)")
    work = Path(tempfile.mkdtemp(prefix="steward-ansible-"))
    try:
        shutil.copy(DOCS / "set-setting.yml", work)
        shutil.copytree(DOCS / "group_vars", work / "group_vars")
        tokens = fleet3.api_tokens(role="admin", name="ansible")
        lines = ["[fleet]"]
        for m, token in tokens.items():
            lines.append(f"{m.name} steward_address={m.ip} steward_token={token}")
        (work / "inventory.ini").write_text("\n".join(lines) + "\n")
        home = work / "ansible-home"
        (work / "ansible.cfg").write_text("[defaults]\nforks = 10\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update({"ANSIBLE_HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
                    "ANSIBLE_REMOTE_TEMP": str(home / "remote-tmp"),
                    "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                    "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_CONFIG": str(work / "ansible.cfg"),
                    "HOME": str(work)})

        def run(settings, *extra):
            p = subprocess.run(
                ["ansible-playbook", "-i", "inventory.ini", "set-setting.yml",
                 "-e", json.dumps({"steward_settings": settings,
                                   "steward_ca_path": str(fleet3.ca_cert)}), *extra],
                cwd=work, env=env, capture_output=True, text=True, timeout=300)
            return p, recap(p.stdout)
        yield run
    finally:
        shutil.rmtree(work, ignore_errors=True)


def recap(out):
    """{host: {"ok": n, "changed": n, "failed": n, …}} from PLAY RECAP."""
    hosts = {}
    tail = out.split("PLAY RECAP", 1)[-1]
    for line in tail.splitlines():
        m = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if m:
            hosts[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return hosts


def log_levels(fleet):
    out = []
    for m in fleet.members:
        r = m.https("GET", "/api/v1/modules/stewardd/settings?key=log_level")
        assert r.status == 200, r
        out.append(r.json["log_level"])
    return out


def test_first_run_changes_every_host_after_showing_the_plan(fleet3, ansible):
    before = log_levels(fleet3)
    assert before == ["info"] * 3
    p, hosts = ansible({"log_level": "debug"})
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert set(hosts) == {m.name for m in fleet3.members}, p.stdout
    for name, counts in hosts.items():
        assert counts["changed"] == 1 and counts["failed"] == 0, (name, p.stdout)
    # the plan's diff was shown for every host, before the change
    assert p.stdout.count('+log_level = \\"debug\\"') == 3 or \
        p.stdout.count('+log_level = "debug"') == 3, p.stdout
    assert p.stdout.index("Show the plan") < p.stdout.index("Apply the change")
    assert log_levels(fleet3) == ["debug"] * 3


def test_second_run_changes_nothing(fleet3, ansible):
    p, hosts = ansible({"log_level": "debug"})
    assert p.returncode == 0, p.stdout[-4000:]
    assert len(hosts) == 3
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in hosts.values()), p.stdout
    assert log_levels(fleet3) == ["debug"] * 3


def test_a_refused_value_fails_with_the_servers_message_and_changes_nothing(fleet3, ansible):
    p, hosts = ansible({"log_level": "loud"})
    assert p.returncode != 0
    assert all(c["failed"] == 1 and c["changed"] == 0 for c in hosts.values()), p.stdout
    # the server's own words, once per host
    assert p.stdout.count('log_level: expected one of \\"error\\"') == 3, p.stdout
    assert log_levels(fleet3) == ["debug"] * 3


def test_check_mode_plans_only(fleet3, ansible):
    p, hosts = ansible({"log_level": "info"}, "--check")
    assert p.returncode == 0, p.stdout[-4000:]
    assert '-log_level = \\"debug\\"' in p.stdout or '-log_level = "debug"' in p.stdout
    assert log_levels(fleet3) == ["debug"] * 3
    p, hosts = ansible({"log_level": "info"})
    assert p.returncode == 0 and all(c["changed"] == 1 for c in hosts.values()), p.stdout
    assert log_levels(fleet3) == ["info"] * 3
