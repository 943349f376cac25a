"""The booted-container layer: needs root, systemd-nspawn and debootstrap
(scripts/install-deps.sh test installs them).  The root is built once and
cached (build-root.sh); STEWARD_DEB_DIR names the directory holding the
.deb under test (make container builds it)."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
