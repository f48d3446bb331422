"""Throughput benchmark: the real `source-periskope` against the bundled fake server, next to a plain-requests baseline.

    python -m integration_tests.benchmark                      # 100k messages, no latency
    python -m integration_tests.benchmark --large              # 1,000,000 messages
    python -m integration_tests.benchmark --latency-ms 100     # every request answered 100 ms late
    python -m integration_tests.benchmark --profile            # plus a full refresh under py-spy: top 25 functions

The fake server runs as its own process (one connected phone, so --messages N means N messages) and every run is a
separate process timed from its start, so start-up counts:

  baseline      integration_tests.bench_baseline: requests + json, sequential pages, RECORD lines to stdout
  full_refresh  source-periskope read, full refresh of --streams
  incremental   source-periskope read, incremental, no state (a first sync)
  resync        source-periskope read, incremental, with the incremental run's final state (nothing changed)

Each run's stdout is read through a pipe and dropped; RECORD lines are counted on the fly. Per run: records,
requests the server answered (from /_admin/stats), wall seconds, records/s, the ratio to the baseline's records/s,
the child's peak RSS and CPU seconds (from wait4), the server's CPU seconds in that time, and the CPU seconds
the rest of the machine used meanwhile ("other cpu s": on 2 cores anything there makes the figures noisy). The
table is printed and written as JSON (--output, default output/bench/<timestamp>.json) with the commit, the
uncommitted files and a hash of source_periskope/, to compare commits.

--runs picks a subset of the runs; --timeout kills a run that takes too long (its partial figures are kept).
--profile attaches `py-spy record --nonblocking --gil` to an extra full refresh and prints the top functions by
self and cumulative samples (--profiler cprofile for cProfile, which mostly shows waits on the CDK's queue).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from integration_tests.connector_cli import STREAMS, configured_catalog, connector_command
from integration_tests.servers import PROJECT_ROOT, URL_PREFIX

LARGE_MESSAGES = 1_000_000
RUNS = ("baseline", "full_refresh", "incremental", "resync")
RECORD_PREFIX = b'{"type":"RECORD"'
STATE_PREFIX = b'{"type":"STATE"'
ERROR_PREFIX = b'{"type":"TRACE","trace":{"type":"ERROR"'
PY_SPY_RATE = 200  # samples per second
# Runs get this environment without these: PYTHONUNBUFFERED makes every stdout write a system call, which costs
# the baseline's line-by-line writer ~15% and is not how a connector normally runs.
DROPPED_ENV = ("PYTHONUNBUFFERED",)

# cProfile only sees the thread that enabled it, and the connector reads in worker threads: give every thread its
# own profiler and merge them at the end.
CPROFILE_WRAPPER = """\
import cProfile, pstats, sys, threading
out = sys.argv.pop(1)
sys.argv[0] = "source-periskope"
profilers = []
thread_run = threading.Thread.run
def profiled_run(self):
    profiler = cProfile.Profile()
    profilers.append(profiler)
    profiler.runcall(thread_run, self)
threading.Thread.run = profiled_run
from source_periskope.run import run
main = cProfile.Profile()
try:
    main.runcall(run)
finally:
    stats = pstats.Stats(main)
    for profiler in profilers:
        try:
            stats.add(profiler)
        except Exception:
            pass
    stats.dump_stats(out)
"""


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


# -- the fake server ---------------------------------------------------------------------------------------------
class FakeServer:
    """The fake Periskope as a separate process (its CPU is not the connector's), with its admin API."""

    def __init__(self, args: List[str]) -> None:
        command = [sys.executable, "-m", "integration_tests.fake_periskope", "--port", "0", *args]
        # Its log (and tracebacks about clients killed by --timeout) would break the progress line: kept aside.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.base_url = ""
        for line in self.process.stdout:
            if line.startswith(URL_PREFIX):
                self.base_url = line[len(URL_PREFIX):].strip()
                break
        if not self.base_url:
            self.log.seek(0)
            raise RuntimeError(
                f"the fake Periskope server exited ({self.process.wait()}) before announcing its URL:\n"
                + self.log.read().decode(errors="replace")[-3000:]
            )
        parts = urlsplit(self.base_url)
        self.admin_url = f"{parts.scheme}://{parts.netloc}/_admin"

    def stats(self) -> Dict[str, Any]:
        with urllib.request.urlopen(f"{self.admin_url}/stats", timeout=60) as response:
            return json.loads(response.read())

    def cpu_seconds(self) -> Optional[float]:
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


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


# -- reading a run's stdout ------------------------------------------------------------------------------------------
class OutputCounter(threading.Thread):
    """Drains a child's stdout in large chunks, counting RECORD lines; keeps error traces (and STATE lines if asked)."""

    def __init__(self, fd: int, started: float, keep_states: bool) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.started = started
        self.keep_states = keep_states
        self.records = 0
        self.first_record_at: Optional[float] = None
        self.states: List[bytes] = []
        self.errors: List[bytes] = []

    def run(self) -> None:
        tail = b""  # an incomplete last line, carried to the next chunk
        needle = b"\n" + RECORD_PREFIX
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            buffer = tail + chunk if tail else chunk
            cut = buffer.rfind(b"\n") + 1
            if cut == 0:
                tail = buffer
                continue
            block, tail = buffer[:cut], buffer[cut:]  # block starts at a line start and ends with a newline
            found = block.count(needle) + block.startswith(RECORD_PREFIX)
            if found:
                if self.first_record_at is None:
                    self.first_record_at = time.perf_counter() - self.started
                self.records += found
            self._keep_lines(block)
        if tail.startswith(RECORD_PREFIX):
            self.records += 1
        if tail:
            self._keep_lines(tail + b"\n")
        os.close(self.fd)

    def _keep_lines(self, block: bytes) -> None:
        if self.keep_states:
            self._keep(block, STATE_PREFIX, self.states)
        self._keep(block, ERROR_PREFIX, self.errors)

    @staticmethod
    def _keep(block: bytes, prefix: bytes, into: List[bytes]) -> None:
        """Appends the lines starting with `prefix` of a block of whole lines (rare lines: one fast scan)."""
        needle = b"\n" + prefix
        start = 0 if block.startswith(prefix) else block.find(needle) + 1 or -1
        while start >= 0:
            end = block.index(b"\n", start)
            into.append(block[start:end])
            start = block.find(needle, end) + 1 or -1

    def error_messages(self) -> List[str]:
        messages = []
        for line in self.errors:
            error = json.loads(line)["trace"]["error"]
            messages.append(error.get("message") or error.get("internal_message") or "")
        return messages

    def final_states(self) -> List[Dict[str, Any]]:
        """The last STATE message of each stream, as a --state file wants them."""
        latest: Dict[str, Dict[str, Any]] = {}
        for line in self.states:
            state = json.loads(line)["state"]
            stream = state.get("stream") or {}
            latest[stream.get("stream_descriptor", {}).get("name", "?")] = state
        return list(latest.values())


class Progress:
    """One refreshing terminal line (only when stdout is a terminal)."""

    def __init__(self) -> None:
        self.enabled = sys.stdout.isatty()
        self.width = 0

    def show(self, text: str) -> None:
        if self.enabled:
            print("\r" + text.ljust(self.width), end="", flush=True)
            self.width = len(text)

    def done(self, text: str) -> None:
        if self.enabled:
            print("\r" + text.ljust(self.width), flush=True)
        else:
            print(text, flush=True)
        self.width = 0


def run_measured(
    name: str,
    command: List[str],
    server: FakeServer,
    progress: Progress,
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
        # wait4 gives this child's own peak RSS and CPU time, not the benchmark's or another run's.
        _, status, usage = os.wait4(process.pid, 0)
        result.wall_s = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
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
    result.peak_rss_mb = usage.ru_maxrss / 1024  # kB on Linux
    result.cpu_s = usage.ru_utime + usage.ru_stime
    if server_cpu_before is not None and server_cpu_after is not None:
        result.server_cpu_s = server_cpu_after - server_cpu_before
        if machine_before is not None and machine_after is not None:
            ours = result.cpu_s + result.server_cpu_s + (own_after - own_before)
            result.other_cpu_s = max(0.0, machine_after - machine_before - ours)
    result.requests = after["requests"] - before["requests"]
    paths = Counter(after["by_path"])
    paths.subtract(before["by_path"])
    result.requests_by_path = {path: count for path, count in paths.items() if count}
    status_text = _status(result)
    progress.done(
        f"  {name:<13} {result.records:>11,} records  {result.wall_s:7.1f} s  {result.records_per_s:>9,.0f} records/s"
        f"  {result.requests:,} requests  {status_text}"
    )
    for message in result.errors[:5]:
        print(f"    error: {message[:1000]}", file=sys.stderr)
    if not result.ok and result.stderr_tail.strip():
        print(f"    stderr: {result.stderr_tail[-1500:]}", file=sys.stderr)
    return result, counter


def _status(result: RunResult) -> str:
    if result.timed_out:
        return "timed out"
    if result.returncode:
        return f"exit {result.returncode}"
    return f"{len(result.errors)} errors" if result.errors else "ok"


# -- the connector's command lines ------------------------------------------------------------------------------------
def write_json(directory: Path, name: str, content: Any) -> str:
    path = directory / name
    path.write_text(json.dumps(content))
    return str(path)


def discover_catalog(config_path: str) -> Dict[str, Any]:
    completed = subprocess.run(
        [connector_command(), "discover", "--config", config_path], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    for line in completed.stdout.splitlines():
        if line.startswith('{"type":"CATALOG"') or line.startswith('{"type": "CATALOG"'):
            return json.loads(line)["catalog"]
    raise SystemExit(f"discover failed (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")


def incremental_catalog(catalog: Dict[str, Any], streams: List[str]) -> Dict[str, Any]:
    configured = configured_catalog(catalog, "incremental", streams)
    for entry in configured["streams"]:  # a stream without incremental support is read in full
        if "incremental" not in entry["stream"].get("supported_sync_modes", []):
            entry.update(sync_mode="full_refresh", destination_sync_mode="overwrite")
    return configured


def read_command(config_path: str, catalog_path: str, state_path: Optional[str] = None) -> List[str]:
    command = [connector_command(), "read", "--config", config_path, "--catalog", catalog_path]
    return command + (["--state", state_path] if state_path else [])


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


# -- profiles -------------------------------------------------------------------------------------------------------
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
        by_file[_frame_file(frames[-1])] += count
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


def _frame_file(frame: str) -> str:
    """'extract (airbyte_cdk/sources/x.py:12)' -> 'airbyte_cdk/sources/x.py'."""
    inside = frame.rpartition(" (")[2].rstrip(")")
    return inside.rpartition(":")[0] or inside


def cprofile_top(stats_path: Path, top: int) -> Dict[str, Any]:
    import pstats

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
        by_file[_frame_file(name)] += self_time
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


# -- the table ---------------------------------------------------------------------------------------------------
COLUMNS = (
    ("run", "{}", lambda r: r.name),
    ("records", "{:,}", lambda r: r.records),
    ("requests", "{:,}", lambda r: r.requests),
    ("wall s", "{:.2f}", lambda r: r.wall_s),
    ("1st rec s", "{:.2f}", lambda r: r.first_record_s),
    ("records/s", "{:,.0f}", lambda r: r.records_per_s),
    ("x baseline", "{:.2f}", lambda r: r.ratio_to_baseline),
    ("peak RSS MB", "{:.0f}", lambda r: r.peak_rss_mb),
    ("cpu s", "{:.2f}", lambda r: r.cpu_s),
    ("server cpu s", "{:.2f}", lambda r: r.server_cpu_s),
    ("other cpu s", "{:.1f}", lambda r: r.other_cpu_s),
    ("status", "{}", lambda r: _status(r)),
)


def table(results: List[RunResult]) -> str:
    cells = [[title for title, _, _ in COLUMNS]]
    for result in results:
        row = []
        for _, form, get in COLUMNS:
            value = get(result)
            row.append("-" if value is None else form.format(value))
        cells.append(row)
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def git_info() -> Dict[str, Any]:
    """The commit, the uncommitted files, and a hash of the connector package's files as they are (commit or not)."""

    def git(*args: str) -> str:
        completed = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
        return completed.stdout.rstrip("\n") if completed.returncode == 0 else ""

    digest = hashlib.sha256()
    package = PROJECT_ROOT / "source_periskope"
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty_files": git("status", "--porcelain").splitlines(),
        "source_periskope_sha256": digest.hexdigest(),
    }


def package_version(name: str) -> Optional[str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


# -- main -------------------------------------------------------------------------------------------------------------
def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m integration_tests.benchmark", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000, help="messages on the fake server (default 100000)")
    parser.add_argument("--large", action="store_true", help=f"--messages {LARGE_MESSAGES:,}")
    parser.add_argument("--latency-ms", type=float, default=0, help="the server's delay per request (default 0)")
    parser.add_argument("--streams", default="messages", help="comma-separated streams to read (default messages)")
    parser.add_argument("--page-size", type=int, default=1000, help="page size, connector and baseline (default 1000)")
    parser.add_argument("--output", type=Path, help="JSON results (default output/bench/<timestamp>.json)")
    parser.add_argument("--concurrency", type=int, help="the connector's num_workers (1..8; default: the connector's, 4)")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated subset of {','.join(RUNS)} (default all)")
    parser.add_argument("--profile", action="store_true", help="also run the full refresh under a profiler")
    parser.add_argument("--profiler", choices=("py-spy", "cprofile"), default="py-spy",
                        help="default py-spy; cProfile measures wall time per thread, so waits on the CDK's queue "
                             "and locks dominate its tables")
    parser.add_argument("--profile-all-threads", action="store_true",
                        help="py-spy: sample every non-idle thread, not only the one holding the GIL")
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile table (default 25)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a run is killed (default 900)")
    args = parser.parse_args(argv)
    if args.large:
        args.messages = LARGE_MESSAGES
    args.stream_list = [s.strip() for s in args.streams.split(",") if s.strip()]
    unknown = [s for s in args.stream_list if s not in STREAMS]
    if unknown or not args.stream_list:
        parser.error(f"unknown stream(s) {', '.join(unknown)}; known: {', '.join(STREAMS)}")
    args.run_list = [r.strip() for r in args.runs.split(",") if r.strip()]
    if any(r not in RUNS for r in args.run_list):
        parser.error(f"--runs takes {', '.join(RUNS)}")
    if "resync" in args.run_list and "incremental" not in args.run_list:
        parser.error("resync needs the incremental run's state: add incremental to --runs")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    git = git_info()  # the code measured is the code as it was when the benchmark started
    output = args.output or reserve_output_path(PROJECT_ROOT / "output" / "bench")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _benchmark(args, git, output)
    except BaseException:
        if not args.output and output.exists() and output.stat().st_size == 0:
            output.unlink()  # the reserved name, never written
        raise


def reserve_output_path(directory: Path) -> Path:
    """output/bench/<timestamp>.json, created empty now so that a benchmark started in the same second gets another."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in [stamp] + [f"{stamp}-{n}" for n in range(1, 100)]:
        try:
            with open(directory / f"{name}.json", "x"):
                return directory / f"{name}.json"
        except FileExistsError:
            continue
    raise SystemExit(f"no free output name for {stamp} in {directory}")


def _benchmark(args: argparse.Namespace, git: Dict[str, Any], output: Path) -> int:
    server_args = ["--messages", str(args.messages), "--size", "phones=1", "--latency-ms", str(args.latency_ms)]
    print(
        f"Fake Periskope: {args.messages:,} messages, 1 phone, latency {args.latency_ms:g} ms; streams "
        f"{','.join(args.stream_list)}; page size {args.page_size}; {os.cpu_count()} CPUs"
    )
    server = FakeServer(server_args)
    results: List[RunResult] = []
    states: List[Dict[str, Any]] = []
    profile: Optional[Dict[str, Any]] = None
    progress = Progress()
    try:
        phone = server.stats()["phones"][0]["number"]
        config = {"api_key": "test-api-key", "phone_number": phone, "base_url": server.base_url, "page_size": args.page_size}
        if args.concurrency is not None:
            config["num_workers"] = args.concurrency
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            config_path = write_json(directory, "config.json", config)
            catalog = discover_catalog(config_path)
            full_path = write_json(directory, "full.json", configured_catalog(catalog, "full_refresh", args.stream_list))
            incremental_path = write_json(directory, "incremental.json", incremental_catalog(catalog, args.stream_list))
            commands = {
                "baseline": [
                    sys.executable, "-m", "integration_tests.bench_baseline", "--base-url", server.base_url,
                    "--api-key", config["api_key"], "--phone", phone, "--streams", ",".join(args.stream_list),
                    "--page-size", str(args.page_size),
                ],
                "full_refresh": read_command(config_path, full_path),
                "incremental": read_command(config_path, incremental_path),
            }
            for name in args.run_list:
                if name == "resync":
                    previous = next((r for r in results if r.name == "incremental"), None)
                    if previous is None or not previous.ok:
                        print("  resync        skipped: the incremental run did not finish")
                        continue
                    commands["resync"] = read_command(config_path, incremental_path, write_json(directory, "state.json", states))
                result, counter = run_measured(
                    name, commands[name], server, progress, args.timeout, keep_states=name == "incremental"
                )
                if name == "incremental":
                    states = counter.final_states()
                results.append(result)

            if args.profile:
                profile = run_profile(args, server, progress, config_path, full_path, output, results)
    finally:
        server.stop()

    baseline = next((r for r in results if r.name == "baseline"), None)  # a timed-out one still has a rate
    for result in results:
        if baseline and baseline.records_per_s:
            result.ratio_to_baseline = result.records_per_s / baseline.records_per_s

    print()
    print(table(results))
    busy = [r.name for r in results if r.other_cpu_s and r.other_cpu_s > 0.1 * r.wall_s]
    if busy:
        print(
            f"\nNote: other processes used the CPUs during {', '.join(busy)} ('other cpu s', over 10% of a core): "
            "those figures are noisy; rerun on a quiet machine to compare commits."
        )
    if profile:
        print_profile(profile, args.top)

    document = {
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "git": git,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "versions": {name: package_version(name) for name in ("airbyte-cdk", "requests", "orjson", "serpyco-rs")},
        "options": {
            "messages": args.messages, "latency_ms": args.latency_ms, "streams": args.stream_list,
            "page_size": args.page_size, "concurrency": args.concurrency, "runs": args.run_list, "profile": args.profile,
        },
        "server_args": server_args,
        "env_removed_for_runs": [name for name in DROPPED_ENV if name in os.environ],
        "results": [asdict(r) for r in results],
        "profile": profile,
    }
    output.write_text(json.dumps(document, indent=2))
    print(f"\nResults written to {output}")
    return 0 if all(r.ok for r in results) else 1


def run_profile(
    args: argparse.Namespace,
    server: FakeServer,
    progress: Progress,
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
        profiled = [sys.executable, "-c", CPROFILE_WRAPPER, str(stats_path), *command[1:]]
        result, _ = run_measured("profiled_full", profiled, server, progress, args.timeout)
        results.append(result)
        if not stats_path.exists():
            print("cProfile wrote no profile", file=sys.stderr)
            return None
        profile = cprofile_top(stats_path, args.top)
        raw_path = stats_path
    profile["file"] = str(raw_path)
    return profile


if __name__ == "__main__":
    sys.exit(main())
