"""What keeps a password login at about one password hash (docs/architecture.md,
bench/login.sh): stewardd gives PAM's modules its own crypt_r (exported
from the executable, so pam_unix binds to it rather than to libcrypt's),
which answers pam_unix's second identical call from the first.  The memo's
rules are unit-tested (test-cryptmemo); here, that the daemon as built
exports the symbol and that libcrypt's stays the one it computes with."""
import subprocess

from conftest import BUILD


def dynamic_symbols(path):
    out = subprocess.run(["nm", "-D", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return {(parts[-2], parts[-1].split("@")[0]) for parts in map(str.split, out.splitlines())
            if len(parts) >= 2}


def test_stewardd_exports_crypt_r():
    syms = dynamic_symbols(BUILD / "stewardd")
    assert ("T", "crypt_r") in syms
    assert ("U", "crypt_rn") in syms
