"""The quota benchmark: a full sync of several numbers against a fake server that enforces a request quota.

    python -m tools.bench --quota 300                   # 5 numbers, 300,000 messages, 300 requests per minute
    python -m tools.bench --quota 60 --numbers 5        # the same at 60 a minute (about a quarter of an hour)
    python -m tools.bench --quota 40 --numbers 2 --messages 4000 --page-size 200 --quota-reset-format epoch_down
                                                        # small pages, a quota the probes alone exceed, Reset as
                                                        # a whole epoch second rounded down
    python -m tools.bench --quota 40 ... --quota-model token_bucket   # a token bucket instead of a fixed window
    python -m tools.bench --faulty 0.25 --numbers 1 --messages 20000 --page-size 200
                                                        # no quota; a quarter of the answers faulty, 429s that
                                                        # report quota left among them (run_faulty below)

The fake's quota is a fixed 60-second window per API key, opened by its first request, whose whole limit is
available at its start (the burst). The same sync is first run without a quota (its wall time T and requests R),
then with it. With a fixed window, R requests need ceil(R / quota) windows, so the ideal wall time is the windows
before the last (60 s each) plus the last window's share of T:
  ideal = 60 (ceil(R / quota) - 1) + T (R - quota (ceil(R / quota) - 1)) / R   (and never less than T).
Printed too, the fluid ideal a token bucket would allow, max(0, R - quota) / (quota / 60). Then the requests
(pages needed: the sum of ceil(records / page size) per stream and number; pages made; time windows; probes;
/phones/all), 429s received and peak RSS. The detail requests of the by-id fields (details.py) are counted apart;
only fetch_ticket_closed_by is on by default; --details picks others (e.g. --details closed_by,reactions,chat_ids).
"""

from __future__ import annotations

import json
import math
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

from tools.bench.commands import bench_config, full_refresh_files, read_command
from tools.bench.measure import run_measured
from tools.bench.server import FakeServer
from tools.common import ProgressLine

PHONE_SCOPED_PATHS = ("/chats", "/chats/messages", "/chats/notifications", "/note", "/reactions")


def fetch(server: FakeServer, name: str) -> Any:
    with urllib.request.urlopen(f"{server.admin_url}/{name}", timeout=120) as response:
        return json.loads(response.read())


def pages_needed(counts: Dict[str, Any], page_size: int, streams: List[str]) -> int:
    needed = 0
    for stream in streams:
        value = counts[stream]
        per_number = value.values() if isinstance(value, dict) else [value]
        needed += sum(max(1, math.ceil(n / page_size)) for n in per_number) if stream != "phones" else 1
    return needed


DETAIL_PREFIXES = {"/tickets/": "closed_by", "/message/": "reactions", "/contacts/": "chat_ids"}
ALL_HISTORY_START = "2009-01-01T00:00:00Z"  # a full refresh's configured start: the read plan's first page asks from it


def _first_page_of_a_history(entry: Dict[str, Any]) -> bool:
    """All history's first probe has open ends (no start_time, no end_time); a start_date's starts at it."""
    query = entry["query"]
    if entry["path"] not in PHONE_SCOPED_PATHS:
        return False
    return ("start_time" not in query and "end_time" not in query) or query.get("start_time") == ALL_HISTORY_START


def breakdown(log: List[Dict[str, Any]]) -> Dict[str, int]:
    kinds: Counter = Counter()
    windows = set()
    for entry in log:
        query = entry["query"]
        if entry["status"] == 429:
            kinds["429s"] += 1
        if entry["path"] == "/phones/all":
            kinds["phones/all"] += 1
        elif entry["path"].startswith(tuple(DETAIL_PREFIXES)):
            kinds["details"] += 1  # by-id requests for tickets.closed_by etc. (details.py), counted apart
            kinds["details " + next(f for p, f in DETAIL_PREFIXES.items() if entry["path"].startswith(p))] += 1
        elif query.get("limit") == "1" or _first_page_of_a_history(entry):
            kinds["probes"] += 1  # limit=1, or the read plan's first page of a history (probes.history_begin)
        else:
            kinds["pages"] += 1
            if entry["path"] in PHONE_SCOPED_PATHS:
                # Pages of one window share its start_time (the next page moves end_time: paging.py).
                windows.add((entry["path"], entry["phone"], query.get("start_time")))
    kinds["windows"] = len(windows)
    kinds["requests"] = len(log)
    return dict(kinds)


def _per_field(kinds: Dict[str, int]) -> str:
    return ", ".join(f"{field} {kinds.get('details ' + field, 0):,}" for field in DETAIL_PREFIXES.values())


def per_window(log: List[Dict[str, Any]]) -> List[int]:
    """Requests answered in each 60 s from the first one (the fake's window opens with a key's first request)."""
    if not log:
        return []
    first = log[0]["time"]
    counts: Counter = Counter(int((entry["time"] - first) // 60) for entry in log if entry["status"] != 429)
    return [counts[n] for n in range(max(counts) + 1)]


# Without a quota the fake still sends truthful headers for an unenforced limit (6000/min by default), which the
# connector's pace obeys: the run without a quota raises it out of reach, to measure the sync unconstrained.
UNCONSTRAINED_PER_MINUTE = 1_000_000_000


def post(server: FakeServer, name: str, payload: Dict[str, Any]) -> None:
    request = urllib.request.Request(f"{server.admin_url}/{name}", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=60).read()


def set_quota(server: FakeServer, per_minute: Any, args: Any = None) -> None:
    settings = {"quota_per_minute": per_minute, "rate_limit_per_minute": UNCONSTRAINED_PER_MINUTE if per_minute is None else 6000}
    if args is not None:
        settings.update(quota_reset_format=args.quota_reset_format, quota_model=args.quota_model)
    post(server, "settings", settings)
    post(server, "reset_counts", {})


def token_bucket_ideal(requests: int, quota: int, unpaced_seconds: float) -> float:
    """The first `quota` requests at once, then quota/60 a second: the "fluid" ideal."""
    return max(unpaced_seconds, max(0, requests - quota) / (quota / 60))


def fixed_window_ideal(requests: int, quota: int, unpaced_seconds: float) -> float:
    windows = math.ceil(requests / quota)
    last_share = (requests - quota * (windows - 1)) / requests
    return max(unpaced_seconds, 60 * (windows - 1) + unpaced_seconds * last_share)


def run_quota(args: Any) -> int:
    per_number = args.messages // args.numbers
    server_args = ["--messages", str(per_number), "--size", f"phones={args.numbers}"]
    if args.no_odd_text:
        server_args.append("--no-odd-text")
    model = "fixed 60 s window" if args.quota_model == "fixed_window" else "token bucket, full in 60 s"
    print(f"Fake Periskope: {args.numbers} numbers x {per_number:,} messages, then a quota of {args.quota} requests/minute "
          f"({model}, burst {args.quota}, Reset as {args.quota_reset_format}); streams {','.join(args.stream_list)}; "
          f"page size {args.page_size}")
    server = FakeServer(server_args)
    progress = ProgressLine()
    try:
        numbers = [phone["number"] for phone in server.stats()["phones"] if phone["wa_state"] == "CONNECTED"]
        with tempfile.TemporaryDirectory() as tmp:
            config_path, _, full_path = full_refresh_files(Path(tmp), bench_config(server.base_url, numbers, args), args.stream_list)
            set_quota(server, None)
            unpaced, _ = run_measured("no_quota", read_command(config_path, full_path), server, progress, args.timeout)
            unpaced_requests = len(fetch(server, "requests"))
            set_quota(server, args.quota, args)
            result, _ = run_measured("quota_sync", read_command(config_path, full_path), server, progress, args.timeout)
        counts = fetch(server, "counts")
        log = fetch(server, "requests")
        kinds = breakdown(log)
    finally:
        server.stop()

    needed = pages_needed(counts, args.page_size, args.stream_list)
    requests = kinds["requests"] - kinds.get("429s", 0)
    # The ideal is reckoned on the requests the sync needs: those of the same sync without a quota.
    fixed = fixed_window_ideal(unpaced_requests, args.quota, unpaced.wall_s)
    fluid = token_bucket_ideal(unpaced_requests, args.quota, unpaced.wall_s)
    ideal, kind = (fixed, "fixed window") if args.quota_model == "fixed_window" else (fluid, "token bucket")
    print()
    print(f"  without a quota: {unpaced.wall_s:.1f} s, {unpaced_requests:,} requests; with {args.quota}/minute: "
          f"{requests:,} requests answered ({requests / max(1, unpaced_requests):.3f} x), wall {result.wall_s:.1f} s, "
          f"ideal {ideal:.1f} s ({kind}): ratio {result.wall_s / ideal:.3f} (fixed-window ideal {fixed:.1f} s, "
          f"fluid {fluid:.1f} s); "
          f"{result.records:,} records; peak RSS {result.peak_rss_mb:.0f} MB; "
          f"{'ok' if result.ok else 'FAILED: ' + '; '.join(result.errors[:2] or [result.stderr_tail[-300:]])}")
    print(f"  requests {kinds['requests']:,}: pages {kinds.get('pages', 0):,} (needed {needed:,}), windows {kinds['windows']:,}, "
          f"probes {kinds.get('probes', 0):,}, /phones/all {kinds.get('phones/all', 0)}, detail requests "
          f"{kinds.get('details', 0):,} ({_per_field(kinds)}); 429s {kinds.get('429s', 0)} "
          f"({100 * kinds.get('429s', 0) / max(1, kinds['requests']):.2f}%)")
    print(f"  requests per minute of the quota's windows: {per_window(log)}")
    # Each extra time window can end in one short page, so pages needed + windows bounds what a sync should make.
    pages, bound = kinds.get("pages", 0), needed + kinds["windows"]
    print(f"  pages {pages:,} = {pages / max(1, needed):.2f} x needed; <= needed + windows = {bound:,}: "
          f"{'yes' if pages <= bound else 'NO'}")
    return 0 if result.ok and unpaced.ok else 1


FAULTY_KINDS = ("429_retry_after", "429_retry_after_date", "429_reset_epoch", "429_reset_seconds", "429_bare",
                "429_quota_left", "500", "502", "503", "504", "reset")
# The wait each fault asks for (the fake's retry_after_seconds is 1): Retry-After or a 429's Reset (the epoch
# and date forms are written a second later, rounded up); a fault that names no wait asks for the connector's
# backoff at that attempt of its request, retry_backoff_seconds (2 s unless configured) doubled at each attempt
# after the first, without the jitter.
STATED_WAITS = {"429_retry_after": 1, "429_retry_after_date": 2, "429_reset_epoch": 2, "429_reset_seconds": 1, "503": 1}
BACKOFF_SECONDS = 2.0


def waits_asked(log: List[Dict[str, Any]]) -> float:
    """The sum of the waits the faults in the request log asked for (see STATED_WAITS)."""
    failed_before: Counter = Counter()  # request (path, query, number) -> its faulty answers in a row so far
    asked = 0.0
    for entry in log:
        request = (entry["path"], json.dumps(entry["query"], sort_keys=True), entry["phone"])
        if not entry.get("fault") or entry["fault"] in ("slow", "ignore_offset", "missing_key", "malformed_json", "html"):
            failed_before.pop(request, None)
            continue
        failed_before[request] += 1
        stated = STATED_WAITS.get(entry["fault"])
        asked += stated if stated is not None else BACKOFF_SECONDS * 2 ** (failed_before[request] - 1)
    return asked


def run_faulty(args: Any) -> int:
    """The same sync twice, without faults and with a share `args.faulty` of the answers faulty (no quota, the fake's
    informational headers only): the faulty run's extra wall time against the sum of the waits its faults asked for."""
    per_number = args.messages // args.numbers
    server_args = ["--messages", str(per_number), "--size", f"phones={args.numbers}"]
    if args.no_odd_text:
        server_args.append("--no-odd-text")
    print(f"Fake Periskope: {args.numbers} numbers x {per_number:,} messages; streams {','.join(args.stream_list)}; "
          f"page size {args.page_size}; then {args.faulty:.0%} of answers faulty ({', '.join(FAULTY_KINDS)})")
    server = FakeServer(server_args)
    progress = ProgressLine()
    try:
        numbers = [phone["number"] for phone in server.stats()["phones"] if phone["wa_state"] == "CONNECTED"]
        with tempfile.TemporaryDirectory() as tmp:
            config_path, _, full_path = full_refresh_files(Path(tmp), bench_config(server.base_url, numbers, args), args.stream_list)
            post(server, "reset_counts", {})
            clean, _ = run_measured("no_faults", read_command(config_path, full_path), server, progress, args.timeout)
            clean_requests = len(fetch(server, "requests"))
            post(server, "reset_counts", {})
            post(server, "faults", {"rate": args.faulty, "kinds": list(FAULTY_KINDS), "seed": 1})
            faulty, _ = run_measured("faulty", read_command(config_path, full_path), server, progress, args.timeout)
        served = server.stats()["faults_served"]
        log = fetch(server, "requests")
    finally:
        server.stop()
    asked = waits_asked(log)
    extra = faulty.wall_s - clean.wall_s
    print()
    print(f"  without faults: {clean.wall_s:.1f} s, {clean_requests:,} requests; with faults: {faulty.wall_s:.1f} s, "
          f"{len(log):,} requests, {sum(served.values())} faulty ({100 * sum(served.values()) / max(1, len(log)):.0f}%): "
          f"{', '.join(f'{k} {v}' for k, v in sorted(served.items()))}")
    print(f"  waits asked for {asked:.0f} s; extra wall {extra:.1f} s = {extra / max(asked, 1e-9):.2f} x the waits asked; "
          f"longest stretch without a request {longest_gap(log):.1f} s; records {clean.records:,} / {faulty.records:,}; "
          f"{'ok' if faulty.ok and clean.ok and faulty.records == clean.records else 'FAILED'}")
    return 0 if faulty.ok and clean.ok else 1


def longest_gap(log: List[Dict[str, Any]]) -> float:
    times = sorted(entry["time"] for entry in log)
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)
