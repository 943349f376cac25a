"""The Ansible example (docs/ansible/set-setting.yml) run by Debian's
ansible-core against a fleet_ns.Fleet, for test_ansible.py and
test_fleet.py (bench/fleet.py takes ansible_env()).

    from ansible_run import ansible_playbook, recap

    with ansible_playbook(fleet) as run:
        p, hosts = run({"log_level": "debug"})          # one playbook run
        p, hosts = run({"log_level": "info"}, "--check")
        hosts == {"steward-fl-…-1": {"ok": 3, "changed": 1, "failed": 0, …}, …}

What it builds, in a temporary directory of its own:
  - the playbook and its group_vars, copied from docs/ansible;
  - inventory.ini: group `fleet`, one line per member (its namespace name as
    the inventory host name, steward_address its IP, steward_token a fresh
    admin API token of fleetadmin's, made on that member);
  - ansible.cfg (forks = 10: every member at once) and an environment with
    every ANSIBLE_* of the caller's dropped and HOME, ANSIBLE_HOME,
    ANSIBLE_LOCAL_TEMP and ANSIBLE_REMOTE_TEMP pointing in there, colours and
    retry files off: nothing is written under the host's ~/.ansible, and the
    host's own Ansible configuration is not read.
Each run passes the settings and the fleet's CA (steward_ca_path: the
playbook verifies the members' certificates) as extra vars.

Who owns what: the context manager owns the temporary directory and removes
it on exit; the fleet (and its tokens' members) is the caller's.  It skips
the test when ansible-playbook is not installed.
"""
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ansible"
TIMEOUT = 300


def recap(out):
    """{host: {"ok": n, "changed": n, "failed": n, …}} from PLAY RECAP."""
    hosts = {}
    tail = out.split("PLAY RECAP", 1)[-1]
    for line in tail.splitlines():
        m = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if m:
            hosts[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return hosts


def ansible_env(work):
    """The environment of an ansible-playbook whose own files all stay
    under work (a directory the caller owns)."""
    home = Path(work) / "ansible-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({"HOME": str(work),
                "ANSIBLE_HOME": str(home),
                "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
                "ANSIBLE_REMOTE_TEMP": str(home / "remote-tmp"),
                "ANSIBLE_CONFIG": str(Path(work) / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_RETRY_FILES_ENABLED": "0"})
    return env


@contextlib.contextmanager
def ansible_playbook(fleet, token_name="ansible"):
    """Yields run(settings, *extra_args) -> (CompletedProcess, recap) that
    runs set-setting.yml on every member of fleet (see the module's doc)."""
    if not shutil.which("ansible-playbook"):
        pytest.skip("needs ansible-core (scripts/install-deps.sh test)")
    work = Path(tempfile.mkdtemp(prefix="steward-ansible-"))
    try:
        shutil.copy(DOCS / "set-setting.yml", work)
        shutil.copytree(DOCS / "group_vars", work / "group_vars")
        tokens = fleet.api_tokens(role="admin", name=token_name)
        (work / "inventory.ini").write_text("[fleet]\n" + "".join(
            f"{m.name} steward_address={m.ip} steward_token={t}\n" for m, t in tokens.items()))
        (work / "ansible.cfg").write_text("[defaults]\nforks = 10\n")
        env = ansible_env(work)

        def run(settings, *extra):
            p = subprocess.run(
                ["ansible-playbook", "-i", "inventory.ini", "set-setting.yml",
                 "-e", json.dumps({"steward_settings": settings,
                                   "steward_ca_path": str(fleet.ca_cert)}), *extra],
                cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT)
            return p, recap(p.stdout)
        yield run
    finally:
        shutil.rmtree(work, ignore_errors=True)
