"""What the figures were measured on: machine, load, commit; and process memory.

Memory is read from /proc (psutil is not a dependency of the project); a sampler
thread keeps the peak resident set of a process together with its children.
"""

from __future__ import annotations

import os
import platform
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

from bench.stack import PROJECT_ROOT


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total_mb() -> Optional[float]:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load_average() -> List[float]:
    """1, 5 and 15-minute load averages (other work shares the machine)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def describe() -> Dict[str, Any]:
    """Machine and code the run was measured on."""
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_total_mb": _memory_total_mb(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "git_commit": _git("rev-parse", "HEAD"),
        # Uncommitted edits change what was measured: say so.
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_average_at_start": load_average(),
    }


def _children(pid: int) -> List[int]:
    found: List[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except OSError:
            continue
        found.extend(int(child) for child in text.split())
    return found


def _proc_bytes(pid: int, file: str, field: str) -> int:
    """A `Field:   N kB` line of /proc/<pid>/<file>, in bytes (0 when unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rss_bytes(pid: int) -> int:
    return _proc_bytes(pid, "status", "VmRSS:")


def _pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages split between the processes sharing them."""
    return _proc_bytes(pid, "smaps_rollup", "Pss:")


def _tree(pid: int) -> List[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.append(current)
            todo.extend(_children(current))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live descendants."""
    return sum(_cpu_seconds(p) for p in _tree(pid))


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB.

    A sum of RSS: pages that forked workers share are counted once per process."""
    return sum(_rss_bytes(p) for p in _tree(pid)) / (1024 * 1024)


def tree_pss_mb(pid: int) -> float:
    """The memory a process tree really holds (shared pages counted once), in MB."""
    return sum(_pss_bytes(p) for p in _tree(pid)) / (1024 * 1024)


class MemorySampler:
    """Samples the RSS of named process trees in a thread; keeps peak and last."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.pids: Dict[str, int] = {}
        self.peak_mb: Dict[str, float] = {}
        self.last_mb: Dict[str, float] = {}
        self.peak_pss_mb: Dict[str, float] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        """(Re)points `name` at a process; the peak of earlier processes is kept."""
        with self._lock:
            self.pids[name] = pid

    def sample(self) -> None:
        with self._lock:
            pids = dict(self.pids)
        for name, pid in pids.items():
            rss = tree_rss_mb(pid)
            if rss <= 0:
                continue
            self.last_mb[name] = rss
            self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), rss)
            self.peak_pss_mb[name] = max(self.peak_pss_mb.get(name, 0.0), tree_pss_mb(pid))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

    def snapshot(self) -> Dict[str, Dict[str, float]]:
        return {
            name: {"peak_rss_mb": round(self.peak_mb.get(name, 0.0), 1),
                   "last_rss_mb": round(self.last_mb.get(name, 0.0), 1),
                   "peak_pss_mb": round(self.peak_pss_mb.get(name, 0.0), 1)}
            for name in self.pids
        }
