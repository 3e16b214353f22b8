"""Resident memory and CPU time of process trees, read from /proc (Linux only; no psutil needed)."""
from __future__ import annotations

from pathlib import Path
import os
import threading
from typing import Dict, List, Optional, Set


def _children_map() -> Dict[int, List[int]]:
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ... ; comm may contain spaces/parentheses
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree(pid: int) -> Set[int]:
    """pid and all its descendants."""
    children = _children_map()
    seen, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(children.get(p, []))
    return seen


def vmrss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def stack_cpu_s(pids: Dict[str, int]) -> Dict[str, float]:
    """CPU seconds used so far by each named process tree (children included)."""
    return {name: sum(cpu_s(p) for p in tree(pid)) for name, pid in pids.items()}


def tree_rss_mb(pid: int) -> float:
    return round(sum(vmrss_kb(p) for p in tree(pid)) / 1024, 1)


def stack_rss_mb(pids: Dict[str, int]) -> Dict[str, float]:
    """{"rasa": MB, ..., "total": MB} for the named root pids (sum of VmRSS of each tree)."""
    out = {name: tree_rss_mb(pid) for name, pid in pids.items()}
    out["total"] = round(sum(out.values()), 1)
    return out



class PeakSampler:
    """Samples stack_rss_mb every `interval_s` in a thread; `.peak` is the highest total seen."""

    def __init__(self, pids: Dict[str, int], interval_s: float = 0.5):
        self.pids, self.interval_s = pids, interval_s
        self.peak: Optional[Dict[str, float]] = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            sample = stack_rss_mb(self.pids)
            if self.peak is None or sample["total"] > self.peak["total"]:
                self.peak = sample
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
