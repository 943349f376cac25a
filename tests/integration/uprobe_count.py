"""Counts how many times one process (and the children it forks from then
on) enters given functions of a shared library, with the kernel's uprobes
through tracefs: nothing in the process changes, nothing needs a special
build.  test_login_cost.py counts libcrypt's hashing calls per login with it.

    tracefs = tracefs_dir()                      # None: skip, with why
    lib = mapped_library(pid, "libcrypt.so")     # the file the process maps
    with UprobeCounter(tracefs, lib, ["crypt_r", "crypt_rn"], pid) as c:
        c.reset()
        ...                                      # make the process work
        c.count()                                # entries since reset()

How: one uprobe per symbol (at the symbol's file offset, from `nm -D` and
the PT_LOAD headers of `readelf -lW`) in an event group of its own,
"steward_<pytest's pid>_<random>", enabled only in a tracing instance of the
same name whose set_event_pid is the process, with event-fork on.  Other
processes that map the library (other tests' daemons, the host's logins)
hit the same breakpoints, but their events are dropped by the instance's
pid filter; the global trace buffer and other instances are not touched.

Who owns what: the counter owns its group's probes and its instance;
stop() (and leaving the `with`) disables the events, removes the instance
and the probes, whatever part of start() ran, and checks that none is
left.  A run killed before stop() leaves its group behind: start() removes
every "steward_<pid>_…" group and instance whose pid is gone.
"""
import os
import re
import secrets
import subprocess
from pathlib import Path

GROUP_RE = re.compile(r"^steward_(\d+)_[0-9a-f]+$")


def tracefs_dir():
    """The mounted tracefs with uprobe events, or None."""
    candidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
    try:
        for line in Path("/proc/self/mounts").read_text().splitlines():
            f = line.split()
            if len(f) >= 3 and f[2] == "tracefs":
                candidates.append(f[1])
    except OSError:
        return None
    for c in candidates:
        if os.access(Path(c) / "uprobe_events", os.W_OK):
            return Path(c)
    return None


def mapped_library(pid, name):
    """The file whose name contains name that pid maps, as a path through
    /proc/PID/root (the process's own view of the file system: a test's
    daemon runs in a mount namespace of its own)."""
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        f = line.split(maxsplit=5)
        if len(f) == 6 and f[5].startswith("/") and name in os.path.basename(f[5]):
            return Path(f"/proc/{pid}/root{f[5]}")
    raise LookupError(f"process {pid} maps no {name}")


def symbol_offsets(path, names):
    """{name: file offset of its code} for the dynamic symbols names of the
    ELF file path (the address a uprobe takes)."""
    syms = {}
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "Tt":
            syms.setdefault(f[2].split("@")[0], int(f[0], 16))
    loads = []
    out = subprocess.run(["readelf", "-lW", str(path)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            offset, vaddr, filesz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
            loads.append((vaddr, filesz, offset))
    result = {}
    for n in names:
        if n not in syms:
            raise LookupError(f"{path} defines no {n}")
        v = syms[n]
        [off] = [v - va + o for va, sz, o in loads if va <= v < va + sz]
        result[n] = off
    return result


class UprobeCounter:
    def __init__(self, tracefs, library, symbols, pid):
        self.tracefs = Path(tracefs)
        self.library = Path(library)
        self.symbols = list(symbols)
        self.pid = int(pid)
        self.group = f"steward_{os.getpid()}_{secrets.token_hex(3)}"
        self.instance = self.tracefs / "instances" / self.group
        self._added = []

    def _write(self, rel, text, append=False):
        """One write(2) (a probe definition is one line; Python's append
        mode would seek, which tracefs refuses)."""
        flags = os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC)
        fd = os.open(self.tracefs / rel, flags)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def start(self):
        self._remove_stale()
        try:
            for name, off in symbol_offsets(self.library, self.symbols).items():
                self._write("uprobe_events", f"p:{self.group}/{name} {self.library}:{off:#x}\n",
                            append=True)
                self._added.append(name)
            self.instance.mkdir()
            (self.instance / "set_event_pid").write_text(f"{self.pid}\n")
            (self.instance / "options" / "event-fork").write_text("1\n")
            (self.instance / "events" / self.group / "enable").write_text("1\n")
        except BaseException:
            self.stop()
            raise
        return self

    def reset(self):
        """Empties the instance's buffer: count() starts again from 0."""
        (self.instance / "trace").write_text("")

    def count(self):
        """The probes' hits by the process since start() or reset()."""
        return sum(self.hits().values())

    def hits(self):
        """{symbol: hits} by the process since start() or reset()."""
        text = (self.instance / "trace").read_text()
        out = {n: 0 for n in self.symbols}
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            for n in self.symbols:
                if f" {n}: (" in line:
                    out[n] += 1
        return out

    def stop(self):
        self._remove(self.group, self._added)
        self._added = []
        left = [line for line in self._events() if line.startswith(f"p:{self.group}/")]
        assert not left and not self.instance.exists(), \
            f"uprobes left behind: {left} {self.instance if self.instance.exists() else ''}"

    def _events(self):
        return (self.tracefs / "uprobe_events").read_text().splitlines()

    def _remove(self, group, names):
        inst = self.tracefs / "instances" / group
        if inst.exists():
            try:
                (inst / "events" / group / "enable").write_text("0\n")
            except OSError:
                pass
            try:
                inst.rmdir()
            except OSError:
                pass
        for n in names:
            try:
                self._write("uprobe_events", f"-:{group}/{n}\n", append=True)
            except OSError:
                pass

    def _remove_stale(self):
        """Groups (and instances) of ours whose pytest process is gone."""
        stale = {}
        for line in self._events():
            m = re.match(r"^[pr]:([^/ ]+)/(\S+) ", line)
            if m and GROUP_RE.match(m.group(1)):
                stale.setdefault(m.group(1), []).append(m.group(2))
        inst = self.tracefs / "instances"
        for d in inst.iterdir() if inst.is_dir() else ():
            if GROUP_RE.match(d.name):
                stale.setdefault(d.name, [])
        for group, names in stale.items():
            if not os.path.exists(f"/proc/{GROUP_RE.match(group).group(1)}"):
                self._remove(group, names)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
