"""One measured run: a command started as its own process, its stdout drained and counted, timed from its start,
with its peak RSS and CPU, the fake server's CPU and requests, and the CPU the rest of the machine used meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from integration_tests.support.paths import PROJECT_ROOT
from tools.bench.metrics import machine_busy_seconds, own_cpu_seconds, reap
from tools.bench.output import OutputCounter
from tools.bench.server import FakeServer
from tools.common import ProgressLine

# Runs get this environment without these: PYTHONUNBUFFERED makes every stdout write a system call, which costs
# the baseline's line-by-line writer ~15% and is not how a connector normally runs.
DROPPED_ENV = ("PYTHONUNBUFFERED",)


@dataclass
class RunResult:
    name: str
    command: List[str]
    records: int = 0
    requests: int = 0
    requests_by_path: Dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    first_record_s: Optional[float] = None
    records_per_s: float = 0.0
    ratio_to_baseline: Optional[float] = None
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    server_cpu_s: Optional[float] = None
    other_cpu_s: Optional[float] = None  # CPU the rest of the machine used meanwhile: noise if large
    returncode: Optional[int] = None
    timed_out: bool = False
    errors: List[str] = field(default_factory=list)
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.errors


def run_measured(
    name: str,
    command: List[str],
    server: FakeServer,
    progress: ProgressLine,
    timeout_s: float,
    keep_states: bool = False,
    attach: Optional[Callable[[int], List[str]]] = None,
) -> Tuple[RunResult, OutputCounter]:
    """Runs `command` to its end, draining and counting its stdout; `attach(pid)` is a profiler to attach to it."""
    result = RunResult(name=name, command=command)
    before = server.stats()
    server_cpu_before = server.cpu_seconds()
    machine_before, own_before = machine_busy_seconds(), own_cpu_seconds()
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=stderr, env=env)
        counter = OutputCounter(os.dup(process.stdout.fileno()), started, keep_states)
        process.stdout.close()
        counter.start()
        profiler = None
        if attach:
            profiler = subprocess.Popen(attach(process.pid), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while counter.is_alive():
            counter.join(0.25)
            elapsed = time.perf_counter() - started
            rate = counter.records / elapsed if elapsed else 0.0
            progress.show(f"  {name:<13} {counter.records:>11,} records  {elapsed:7.1f} s  {rate:>9,.0f} records/s")
            if elapsed > timeout_s and not result.timed_out:
                result.timed_out = True
                process.kill()
            if result.timed_out and elapsed > timeout_s + 10:
                break  # something else still holds the pipe open: stop waiting for its end
        reaped = reap(process.pid)
        result.wall_s = time.perf_counter() - started
        process.returncode = reaped.exit_code
        counter.join(None if not result.timed_out else 5)
        if profiler:
            try:
                profiler_errors = profiler.communicate(timeout=120)[1]
            except subprocess.TimeoutExpired:
                profiler.kill()
                profiler_errors = profiler.communicate()[1]
            if profiler.returncode:
                print(f"\n    the profiler exited {profiler.returncode}: {profiler_errors[-1500:]}", file=sys.stderr)
        stderr.seek(0)
        result.stderr_tail = stderr.read()[-3000:].decode(errors="replace")
    server_cpu_after = server.cpu_seconds()
    machine_after, own_after = machine_busy_seconds(), own_cpu_seconds()
    after = server.stats()

    result.returncode = process.returncode
    result.records = counter.records
    result.first_record_s = counter.first_record_at
    result.errors = counter.error_messages()
    result.records_per_s = result.records / result.wall_s if result.wall_s else 0.0
    result.peak_rss_mb = reaped.peak_rss_mb
    result.cpu_s = reaped.cpu_s
    if server_cpu_before is not None and server_cpu_after is not None:
        result.server_cpu_s = server_cpu_after - server_cpu_before
        if machine_before is not None and machine_after is not None:
            ours = result.cpu_s + result.server_cpu_s + (own_after - own_before)
            result.other_cpu_s = max(0.0, machine_after - machine_before - ours)
    result.requests = after["requests"] - before["requests"]
    paths = Counter(after["by_path"])
    paths.subtract(before["by_path"])
    result.requests_by_path = {path: count for path, count in paths.items() if count}
    status_text = status(result)
    progress.done(
        f"  {name:<13} {result.records:>11,} records  {result.wall_s:7.1f} s  {result.records_per_s:>9,.0f} records/s"
        f"  {result.requests:,} requests  {status_text}"
    )
    for message in result.errors[:5]:
        print(f"    error: {message[:1000]}", file=sys.stderr)
    if not result.ok and result.stderr_tail.strip():
        print(f"    stderr: {result.stderr_tail[-1500:]}", file=sys.stderr)
    return result, counter


def status(result: RunResult) -> str:
    if result.timed_out:
        return "timed out"
    if result.returncode:
        return f"exit {result.returncode}"
    return f"{len(result.errors)} errors" if result.errors else "ok"
