"""--profile: one more full refresh, under py-spy (attached to the running connector) or under cProfile
(tools/bench/profiled_run.py), and its top tables (tools/bench/hotspots.py)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from tools.bench.commands import read_command
from tools.bench.hotspots import PY_SPY_RATE, cprofile_top, py_spy_top
from tools.bench.measure import RunResult, run_measured
from tools.bench.server import FakeServer
from tools.common import ProgressLine


def run_profile(
    args: argparse.Namespace,
    server: FakeServer,
    progress: ProgressLine,
    config_path: str,
    full_path: str,
    output: Path,
    results: List[RunResult],
) -> Optional[Dict[str, Any]]:
    command = read_command(config_path, full_path)
    spy = py_spy_binary() if args.profiler == "py-spy" else None
    if spy:
        raw_path = output.with_name(output.stem + "-profile.txt")
        # Attached to the connector rather than starting it, so the run's RSS and CPU are the connector's own.
        # --nonblocking: py-spy's default pauses the process for every sample, and here (Linux 6.18, py-spy 0.4.3)
        # those ptrace stops make a pipe write lose data: 15-35% of RECORD lines vanished, even from a plain
        # `sys.stdout.write` loop, with exit code 0.
        # --gil (unless --profile-all-threads): only the thread holding the GIL is sampled, so the profile shows
        # where the interpreter's time goes, not threads blocked on the CDK's record queue (py-spy counts a thread
        # waiting for a lock as active).
        def attach(pid: int) -> List[str]:
            return [
                spy, "record", "--pid", str(pid), "--nonblocking", *([] if args.profile_all_threads else ["--gil"]),
                "--rate", str(PY_SPY_RATE), "--function", "--format", "raw", "--output", str(raw_path),
            ]

        result, _ = run_measured("profiled_full", command, server, progress, args.timeout, attach=attach)
        results.append(result)
        if not raw_path.exists():
            print("py-spy wrote no profile", file=sys.stderr)
            return None
        profile = py_spy_top(raw_path, args.top)
        profile["sampled"] = "all non-idle threads" if args.profile_all_threads else "the thread holding the GIL"
    else:
        if args.profiler == "py-spy":
            print("py-spy is unavailable: profiling with cProfile instead", file=sys.stderr)
        stats_path = output.with_name(output.stem + "-profile.pstats")
        profiled = [sys.executable, "-m", "tools.bench.profiled_run", str(stats_path), *command[1:]]
        result, _ = run_measured("profiled_full", profiled, server, progress, args.timeout)
        results.append(result)
        if not stats_path.exists():
            print("cProfile wrote no profile", file=sys.stderr)
            return None
        profile = cprofile_top(stats_path, args.top)
        raw_path = stats_path
    profile["file"] = str(raw_path)
    return profile


def py_spy_binary() -> Optional[str]:
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    found = shutil.which("py-spy")
    if found:
        return found
    print("py-spy is not installed: installing it into this environment (pip install py-spy)", flush=True)
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--retries", "1", "--timeout", "15", "py-spy"]
    )
    if installed.returncode == 0 and beside.exists():
        return str(beside)
    return shutil.which("py-spy")
