"""CPU and memory figures from the kernel: a process's CPU time (/proc/<pid>/stat), the whole machine's busy CPU
time (/proc/stat), this process's own, and a child's peak RSS and CPU time when it is reaped (wait4)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple, Optional


def process_cpu_seconds(pid: int) -> Optional[float]:
    """user + system CPU seconds of a running process; None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def machine_busy_seconds() -> Optional[float]:
    """CPU seconds all processes have used since boot (the `cpu` line of /proc/stat, idle and iowait excluded)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


class Reaped(NamedTuple):
    exit_code: int
    peak_rss_mb: float
    cpu_s: float


def reap(pid: int) -> Reaped:
    """Waits for a child; wait4 gives this child's own peak RSS and CPU time, not this process's or another child's."""
    _, status, usage = os.wait4(pid, 0)
    return Reaped(os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)  # kB
