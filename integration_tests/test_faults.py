"""The real CLI against a fake server that fails often (fixed seed): no record is lost, and no fault is fatal."""

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from integration_tests.fake_periskope import DEFAULT_KINDS, FakePeriskope, FaultSettings
from integration_tests.support.connector import configured_catalog, connector_command, run
from integration_tests.support.servers import connector_config
from unit_tests.stream_table import key, keys_of
from unit_tests.stream_table import NAMES as STREAMS

SIZES = {"messages": 300, "chats": 30, "notifications": 40, "notes": 30, "reactions": 60, "tickets": 120, "contacts": 130}
FAULT_KINDS = (*DEFAULT_KINDS, "slow")


def faulty_config(server):
    # Small pages make many requests; short timeouts and backoff keep the test fast without changing behaviour.
    return connector_config(server, page_size=100, request_timeout_seconds=1, retry_backoff_seconds=0.05, max_retries=10)


@pytest.fixture
def faulty_server():
    faults = FaultSettings(rate=0.15, kinds=FAULT_KINDS, seed=20261126, slow_seconds=2.5, retry_after_seconds=0)
    with FakePeriskope(seed=11, sizes=SIZES, faults=faults).start() as server:
        yield server


def catalog(server, sync_mode):
    discovered = run("discover", connector_config(server))
    return configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], sync_mode)


@pytest.mark.parametrize("sync_mode", ["full_refresh", "incremental"])
def test_every_record_arrives_despite_frequent_faults(faulty_server, sync_mode):
    result = run("read", faulty_config(faulty_server), catalog=catalog(faulty_server, sync_mode))

    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    assert sum(faulty_server.faults.served.values()) >= 10, faulty_server.faults.served
    for stream in STREAMS:
        assert {key(stream, r) for r in result.records(stream)} == keys_of(stream, faulty_server.records(stream)), stream


def test_a_sync_killed_midway_and_resumed_from_its_last_state_loses_nothing(faulty_server):
    config = faulty_config(faulty_server)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "config.json").write_text(json.dumps(config))
        (directory / "catalog.json").write_text(json.dumps(catalog(faulty_server, "incremental")))
        process = subprocess.Popen(
            [connector_command(), "read", "--config", str(directory / "config.json"), "--catalog", str(directory / "catalog.json")],
            stdout=subprocess.PIPE, text=True,
        )
        first_records, states, seen_messages_state = [], {}, False
        for line in process.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                first_records.append(message["record"])
            elif message["type"] == "STATE":
                name = message["state"]["stream"]["stream_descriptor"]["name"]
                states[name] = message["state"]
                seen_messages_state = seen_messages_state or name == "messages"
            if seen_messages_state and len(first_records) > 400:
                process.kill()  # as a crashed worker would stop: no goodbye, no final state
                break
        process.wait()

    resumed = run("read", config, catalog=catalog(faulty_server, "incremental"), state=list(states.values()))
    assert resumed.returncode == 0 and not resumed.errors(), resumed.output[-3000:]
    for stream in STREAMS:
        emitted = {key(stream, r["data"]) for r in first_records if r["stream"] == stream}
        emitted |= {key(stream, r) for r in resumed.records(stream)}
        assert emitted == keys_of(stream, faulty_server.records(stream)), stream
