"""CPU seconds and memory of processes, read from /proc (Linux)."""

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process plus what its exited, reaped children used
    (cutime + cstime): a PostgreSQL backend that ends inside a measuring window is
    counted through the postmaster. 0 when the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return sum(int(f) for f in fields[11:15]) / _TICKS


def rss_bytes(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) in bytes."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return rss, hwm


def pids_named(*names: str) -> list[int]:
    """Processes whose command name is one of `names` (e.g. postgres, beam.smp)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            if comm in names:
                found.append(int(entry.name))
    return found


@dataclass
class CpuMeter:
    """CPU seconds used by groups of processes between start() and stop(). A group is
    a fixed pid list or a process name; named groups are looked up again at stop(), so
    processes started meanwhile (PostgreSQL backends) count from their birth."""

    groups: dict[str, list[int] | str]

    def __post_init__(self) -> None:
        self._start: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}

    def _pids(self, group: list[int] | str) -> list[int]:
        return pids_named(group) if isinstance(group, str) else group

    def start(self) -> None:
        self._start = {name: {p: cpu_seconds(p) for p in self._pids(g)}
                       for name, g in self.groups.items()}

    def stop(self) -> dict[str, float]:
        """A group's CPU at stop minus at start, children included: time of a process
        that exited moves into its parent's, so the sum stays whole when both are in the
        group (PostgreSQL backends and the postmaster)."""
        for name, group in self.groups.items():
            before = sum(self._start.get(name, {}).values())
            after = sum(cpu_seconds(p) for p in self._pids(group))
            self.used[name] = round(max(0.0, after - before), 3)
        return self.used
