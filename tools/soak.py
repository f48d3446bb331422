"""A soak check to run by hand (`make soak`): many syncs against a fake server that fails often.

Each round runs the real CLI for every stream, alternating full refresh and incremental (the incremental ones
carry their state forward and the server gains records between rounds), with random faults of every retryable
kind at --fault-rate. It prints, per round and in total: syncs run, faults served, records expected, emitted and
missing. Exit status 1 if any record was ever missing or any sync failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from integration_tests.fake_periskope import DEFAULT_KINDS, FakePeriskope, FaultSettings, primary_key
from integration_tests.support.connector import configured_catalog, run
from integration_tests.support.servers import connector_config
from source_periskope.stream_facts import stream_names

STREAMS = stream_names()


def key(stream, record) -> tuple:
    """A record's primary key values, as the fake server (the oracle) defines the key."""
    return tuple(record[field] for field in primary_key(stream))


def server_keys(server, stream) -> set:
    return {key(stream, record) for record in server.records(stream)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--messages", type=int, default=400)
    options = parser.parse_args()

    faults = FaultSettings(rate=options.fault_rate, kinds=(*DEFAULT_KINDS, "slow"), seed=options.seed, slow_seconds=2.5, retry_after_seconds=0)
    totals = Counter()
    with FakePeriskope(seed=options.seed, sizes={"messages": options.messages}, faults=faults).start() as server:
        config = connector_config(server, page_size=100, request_timeout_seconds=1, retry_backoff_seconds=0.05, max_retries=10)
        catalog = run("discover", connector_config(server)).of_type("CATALOG")[0]["catalog"]
        state, emitted_incrementally = None, {stream: set() for stream in STREAMS}
        print(f"{'round':>5} {'mode':<13}{'seconds':>8}{'faults':>8}{'expected':>10}{'emitted':>9}{'missing':>9}  status")
        for round_number in range(1, options.rounds + 1):
            mode = "full_refresh" if round_number % 2 else "incremental"
            faults_before = sum(server.faults.served.values())
            started = time.monotonic()
            result = run("read", config, catalog=configured_catalog(catalog, mode), state=state if mode == "incremental" else None)
            seconds = time.monotonic() - started
            expected = {stream: server_keys(server, stream) for stream in STREAMS}
            if mode == "incremental":
                state = result.final_states() or state
                for stream in STREAMS:
                    emitted_incrementally[stream] |= {key(stream, r) for r in result.records(stream)}
                got = emitted_incrementally
            else:
                got = {stream: {key(stream, r) for r in result.records(stream)} for stream in STREAMS}
            missing = sum(len(expected[s] - got[s]) for s in STREAMS)
            faults_served = sum(server.faults.served.values()) - faults_before
            ok = result.returncode == 0 and not result.errors()
            totals.update(syncs=1, faults=faults_served, expected=sum(map(len, expected.values())),
                          emitted=len(result.of_type("RECORD")), missing=missing, failed=int(not ok))
            print(f"{round_number:>5} {mode:<13}{seconds:>8.1f}{faults_served:>8}{sum(map(len, expected.values())):>10}"
                  f"{len(result.of_type('RECORD')):>9}{missing:>9}  {'ok' if ok else 'FAILED: ' + str(result.errors()[:1])}")
            for stream in ("messages", "tickets", "notes", "reactions"):  # the data keeps changing between rounds
                server.add_record(stream)
        print(f"total: {totals['syncs']} syncs, {totals['faults']} faults served ({dict(server.faults.served)}), "
              f"{totals['expected']} records expected, {totals['emitted']} emitted, {totals['missing']} missing, "
              f"{totals['failed']} failed syncs")
    return 1 if totals["missing"] or totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
