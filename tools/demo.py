"""README command 1 (`make demo`): the connector's whole job, end to end, against the bundled fake server.

Runs spec, check, discover and an incremental read of every stream (the first one reads all history) with the
real `source-periskope` command, writes each stream's records as JSONL and the final state into output/demo/,
and prints a per-stream summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict

from integration_tests.support.connector import configured_catalog, run
from integration_tests.support.paths import PROJECT_ROOT
from integration_tests.support.servers import fake_server_process
from source_periskope.stream_facts import stream_names
from tools.common import ProgressLine, demo_config

STREAMS = stream_names()


class Progress:
    """Records per stream on one line: on a terminal refreshed a few times a second, in a log every few seconds."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.line = ProgressLine(log_every=3.0)
        self._counted_at = 0.0

    def __call__(self, message: Dict[str, Any]) -> None:
        if message["type"] == "RECORD":
            self.counts[message["record"]["stream"]] += 1
            if time.monotonic() - self._counted_at > 0.25:
                self._counted_at = time.monotonic()
                self.line.show(self.text())

    def text(self) -> str:
        return "  reading: " + "  ".join(f"{stream} {self.counts[stream]}" for stream in STREAMS if self.counts[stream])


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def fail(what: str, connector_run) -> None:
    print(f"\n{what} failed:\n{connector_run.output[-3000:]}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "output" / "demo")
    parser.add_argument("--messages", type=int, default=2000, help="messages per phone on the fake server")
    options = parser.parse_args()
    records_dir = options.output / "records"
    records_dir.mkdir(parents=True, exist_ok=True)

    with fake_server_process("--messages", str(options.messages)) as base_url:
        print(f"Fake Periskope server at {base_url}")
        config = demo_config(base_url)
        (options.output / "config.json").write_text(json.dumps(config, indent=2))

        step("spec")
        spec = run("spec", config)
        if not spec.of_type("SPEC"):
            fail("spec", spec)
        print("  " + ", ".join(spec.of_type("SPEC")[0]["spec"]["connectionSpecification"]["properties"]))

        step("check")
        check = run("check", config)
        status = check.of_type("CONNECTION_STATUS")
        if not status or status[0]["connectionStatus"]["status"] != "SUCCEEDED":
            fail("check", check)
        print("  SUCCEEDED")

        step("discover")
        discover = run("discover", config)
        if not discover.of_type("CATALOG"):
            fail("discover", discover)
        catalog = discover.of_type("CATALOG")[0]["catalog"]
        print("  " + ", ".join(stream["name"] for stream in catalog["streams"]))

        step("read (incremental, all history)")
        progress = Progress()
        started = time.monotonic()
        read = run("read", config, catalog=configured_catalog(catalog, "incremental"), on_message=progress)
        progress.line.done(progress.text())
        if read.returncode != 0 or read.errors():
            fail("read", read)
        seconds = time.monotonic() - started

    states = {state["stream"]["stream_descriptor"]["name"]: state["stream"]["stream_state"] for state in read.final_states()}
    for stream in STREAMS:
        with open(records_dir / f"{stream}.jsonl", "w") as out:
            for record in read.records(stream):
                out.write(json.dumps(record) + "\n")
    (options.output / "state.json").write_text(json.dumps(read.final_states(), indent=2))

    step(f"summary ({seconds:.1f} s; records and state in {options.output})")
    print(f"  {'stream':<15}{'records':>9}  state")
    for stream in STREAMS:
        print(f"  {stream:<15}{progress.counts[stream]:>9}  {summarize_state(states.get(stream, {}))}")


def summarize_state(state: Dict[str, Any]) -> str:
    if "states" in state:
        return "; ".join(f"{s['partition']['phone']}: {next(iter(s['cursor'].values()), '')}" for s in state["states"])
    return ", ".join(f"{key}={value}" for key, value in state.items())


if __name__ == "__main__":
    main()
