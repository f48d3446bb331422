"""Throughput benchmark: the real `source-periskope` against the bundled fake server, next to a plain-requests baseline.

    python -m tools.bench                      # 100k messages, no latency (also `make bench BENCH_ARGS=...`)
    python -m tools.bench --large              # 1,000,000 messages
    python -m tools.bench --latency-ms 100     # every request answered 100 ms late
    python -m tools.bench --profile            # plus a full refresh under py-spy: top 25 functions
    python -m tools.bench --quota 300          # the quota benchmark (tools/bench/quota.py): 5 numbers, all streams

The fake server runs as its own process (one connected phone, so --messages N means N messages) and every run is a
separate process timed from its start, so start-up counts:

  baseline      tools.bench.baseline: requests + json, sequential pages, RECORD lines to stdout
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
self and cumulative samples (--profiler cprofile for cProfile, tools/bench/profiled_run.py, which mostly shows
waits on the CDK's queue).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from integration_tests.support.paths import PROJECT_ROOT
from source_periskope.stream_facts import stream_names
from tools.bench.commands import DETAIL_OPTIONS, baseline_command, bench_config, full_refresh_files, incremental_catalog, read_command, write_json
from tools.bench.hotspots import print_profile
from tools.bench.measure import DROPPED_ENV, RunResult, run_measured
from tools.bench.profiling import run_profile
from tools.bench.quota import run_faulty, run_quota
from tools.bench.provenance import git_info, machine, versions
from tools.bench.report import busy_note, reserve_output_path, table, write_document
from tools.bench.server import FakeServer
from tools.common import ProgressLine

LARGE_MESSAGES = 1_000_000
RUNS = ("baseline", "full_refresh", "incremental", "resync")
STREAMS = stream_names()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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
    parser.add_argument("--quota", type=int,
                        help="run the quota benchmark instead: requests per minute the fake server allows (tools/bench/quota.py)")
    parser.add_argument("--numbers", type=int, default=5, help="WhatsApp numbers in the quota benchmark (default 5)")
    parser.add_argument("--quota-reset-format", default="seconds", choices=("seconds", "epoch", "epoch_down", "epoch_ms"),
                        help="how the quota benchmark's fake writes X-RateLimit-Reset (default seconds to wait)")
    parser.add_argument("--quota-model", default="fixed_window", choices=("fixed_window", "token_bucket"),
                        help="the quota benchmark's quota: a fixed 60 s window (default) or a token bucket")
    parser.add_argument("--faulty", type=float,
                        help="run the faulty benchmark instead: this share of answers faulty, no quota (tools/bench/quota.py)")
    parser.add_argument("--no-odd-text", action="store_true",
                        help="serve no odd text (lone surrogates etc.), e.g. to compare with a connector that fails on it")
    parser.add_argument("--details", default=None,
                        help=f"comma-separated by-id fields to fetch, of {','.join(DETAIL_OPTIONS)} or 'none' "
                             "(default: the connector's defaults, closed_by only)")
    args = parser.parse_args(argv)
    if args.details is not None:
        args.detail_list = [d.strip() for d in args.details.split(",") if d.strip() and d.strip() != "none"]
        if any(d not in DETAIL_OPTIONS for d in args.detail_list):
            parser.error(f"--details takes {', '.join(DETAIL_OPTIONS)} or none")
    else:
        args.detail_list = None
    if args.large:
        args.messages = LARGE_MESSAGES
    if args.quota is not None or args.faulty is not None:
        if args.messages == parser.get_default("messages"):
            args.messages = 300_000
        if args.streams == parser.get_default("streams"):
            args.streams = ",".join(STREAMS)
        if args.timeout == parser.get_default("timeout"):
            args.timeout = 3600
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
    if args.faulty is not None:
        return run_faulty(args)
    if args.quota is not None:
        return run_quota(args)
    git = git_info()  # the code measured is the code as it was when the benchmark started
    output = args.output or reserve_output_path(PROJECT_ROOT / "output" / "bench")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _benchmark(args, git, output)
    except BaseException:
        if not args.output and output.exists() and output.stat().st_size == 0:
            output.unlink()  # the reserved name, never written
        raise


def _benchmark(args: argparse.Namespace, git: Dict[str, Any], output: Path) -> int:
    server_args = ["--messages", str(args.messages), "--size", "phones=1", "--latency-ms", str(args.latency_ms)]
    if args.no_odd_text:
        server_args.append("--no-odd-text")
    print(
        f"Fake Periskope: {args.messages:,} messages, 1 phone, latency {args.latency_ms:g} ms; streams "
        f"{','.join(args.stream_list)}; page size {args.page_size}; {os.cpu_count()} CPUs"
    )
    server = FakeServer(server_args)
    results: List[RunResult] = []
    states: List[Dict[str, Any]] = []
    profile: Optional[Dict[str, Any]] = None
    progress = ProgressLine()
    try:
        phone = server.stats()["phones"][0]["number"]
        config = bench_config(server.base_url, [phone], args)
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            config_path, catalog, full_path = full_refresh_files(directory, config, args.stream_list)
            incremental_path = write_json(directory, "incremental.json", incremental_catalog(catalog, args.stream_list))
            commands = {
                "baseline": baseline_command(server.base_url, config["api_key"], phone, args.stream_list, args.page_size),
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
    note = busy_note(results)
    if note:
        print("\n" + note)
    if profile:
        print_profile(profile, args.top)

    write_document(
        output, results, profile,
        git=git,
        machine=machine(),
        versions=versions(),
        options={
            "messages": args.messages, "latency_ms": args.latency_ms, "streams": args.stream_list,
            "page_size": args.page_size, "concurrency": args.concurrency, "runs": args.run_list, "profile": args.profile,
        },
        server_args=server_args,
        env_removed_for_runs=[name for name in DROPPED_ENV if name in os.environ],
    )
    print(f"\nResults written to {output}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
