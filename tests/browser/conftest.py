"""The browser tests reuse the integration suite's fixtures (real daemons on
random loopback ports, PAM accounts in private mount namespaces): this file
loads tests/integration/conftest.py under another name and re-exports them,
with the check that the run leaves the host's accounts and /home as they
were (host_unchanged), and the booted systemd container (systemd_ct)."""
import importlib.util
import sys
from pathlib import Path

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
sys.path.insert(0, str(INTEGRATION))  # for nsroot, which the fixtures import

_spec = importlib.util.spec_from_file_location("steward_integration_conftest", INTEGRATION / "conftest.py")
integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(integration)

# What smb_ns.py (the real smbd of the shares tests) takes from conftest.
STEWARD = integration.STEWARD
Daemon = integration.Daemon
daemon_base = integration.daemon_base
make_daemon = integration.make_daemon
ns_daemon = integration.ns_daemon
admin_user = integration.admin_user
make_user = integration.make_user
pytest_configure = integration.pytest_configure
host_unchanged = integration.host_unchanged
systemd_ct = integration.systemd_ct
systemd_ct_checked = integration.systemd_ct_checked
pytest_terminal_summary = integration.pytest_terminal_summary
