"""The profiles' top tables: functions by self and cumulative time and self time by file, from py-spy's collapsed
stacks or cProfile's stats, and their printout."""

from __future__ import annotations

import pstats
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

from integration_tests.support.paths import PROJECT_ROOT

PY_SPY_RATE = 200  # samples per second


def py_spy_top(raw_path: Path, top: int) -> Dict[str, Any]:
    """Top functions by self and cumulative samples, from py-spy's collapsed-stack ("raw") output."""
    self_samples: Counter = Counter()
    cumulative: Counter = Counter()
    by_file: Counter = Counter()
    total = 0
    for line in raw_path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        self_samples[frames[-1]] += count
        by_file[frame_file(frames[-1])] += count
        for frame in set(frames):
            cumulative[frame] += count

    def rows(counter: Counter, limit: int) -> List[Dict[str, Any]]:
        return [
            {"function": name, "samples": n, "percent": 100.0 * n / total if total else 0.0, "seconds": n / PY_SPY_RATE}
            for name, n in counter.most_common(limit)
        ]

    return {
        "profiler": "py-spy",
        "samples": total,
        "rate_hz": PY_SPY_RATE,
        "by_self": rows(self_samples, top),
        "by_cumulative": rows(cumulative, top),
        "self_by_file": rows(by_file, 15),
    }


def frame_file(frame: str) -> str:
    """'extract (airbyte_cdk/sources/x.py:12)' -> 'airbyte_cdk/sources/x.py'."""
    inside = frame.rpartition(" (")[2].rstrip(")")
    return inside.rpartition(":")[0] or inside


def cprofile_top(stats_path: Path, top: int) -> Dict[str, Any]:
    stats = pstats.Stats(str(stats_path))
    total = stats.total_tt or 1.0
    entries = []
    for (filename, line, function), (_, calls, self_time, cumulative, _) in stats.stats.items():
        name = f"{function} ({_short_path(filename)}:{line})"
        entries.append((name, calls, self_time, cumulative))

    def rows(index: int) -> List[Dict[str, Any]]:  # index 2: self time, 3: cumulative time
        ranked = sorted(entries, key=lambda entry: entry[index], reverse=True)[:top]
        return [
            {"function": e[0], "calls": e[1], "seconds": e[index], "percent": 100.0 * e[index] / total} for e in ranked
        ]

    by_file: Counter = Counter()
    for name, _, self_time, _ in entries:
        by_file[frame_file(name)] += self_time
    return {
        "profiler": "cProfile",
        "total_seconds": total,
        "by_self": rows(2),
        "by_cumulative": rows(3),
        "self_by_file": [
            {"function": name, "seconds": seconds, "percent": 100.0 * seconds / total}
            for name, seconds in by_file.most_common(15)
        ],
    }


def _short_path(filename: str) -> str:
    if filename == "~":
        return "<built-in>"
    for marker in ("site-packages/", "/lib/python"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    try:
        return str(Path(filename).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return filename


def print_profile(profile: Dict[str, Any], top: int) -> None:
    unit = "samples" if profile["profiler"] == "py-spy" else "seconds"
    header = (
        f"py-spy, {profile['samples']:,} samples of {profile['sampled']} at {profile['rate_hz']} Hz"
        if unit == "samples"
        else f"{profile['total_seconds']:.2f} s profiled (cProfile, all threads merged)"
    )
    print(f"\nProfile of the full refresh ({header})")
    for title, key in (("self time", "by_self"), ("cumulative time", "by_cumulative"), ("self time by file", "self_by_file")):
        rows = profile[key][:top]
        print(f"\n  Top {len(rows)} by {title}:")
        for row in rows:
            amount = f"{row['samples']:>6}" if unit == "samples" else f"{row['seconds']:7.2f}s"
            print(f"    {row['percent']:5.1f}%  {amount}  {row['function']}")
