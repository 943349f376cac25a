"""The Ansible example (docs/ansible/set-setting.yml) with Debian's
ansible-core against three daemons in namespaces (fleet_ns.fleet3, whose
certificates a test CA signed: the playbook verifies them with ca_path):
the first run plans, shows the diffs and changes every host; the setting
reads back changed; a second run changes nothing (changed=0 in the recap);
a refused value fails every host with the server's message and changes
nothing.

Ansible's own files stay in a temporary directory (ansible_run.py, shared
with test_fleet.py): nothing is written under the host's ~/.ansible.
"""
import pytest

from ansible_run import ansible_playbook
from fleet_ns import fleet3  # noqa: F401 (the fixture)

pytestmark = pytest.mark.namespaces


@pytest.fixture(scope="module")
def ansible(fleet3):
    with ansible_playbook(fleet3) as run:
        yield run


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
