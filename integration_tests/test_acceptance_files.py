"""acceptance-test-config.yml at high strictness, and every file it names, against what the bundled fake serves.

The CDK's standard tests (test_airbyte_standards.py) run spec, connection, discovery, basic_read (records in every
stream of the configured catalog, each valid against its schema) and full_refresh from the same file. What they do
not run, the checks Airbyte's Connector Acceptance Tests made from it, runs here with the real CLI: basic_read's
expected records, the incremental read from a future state, and two consecutive full refreshes giving the same
records.
"""

import json
from collections import Counter
from datetime import datetime, timezone

import pytest

from integration_tests.support import acceptance
from integration_tests.support.connector import run
from source_periskope.normalize import from_iso
from unit_tests.stream_table import NAMES as STREAMS
from unit_tests.stream_table import STREAMS as STREAM_TABLE
from unit_tests.stream_table import key

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    with acceptance.acceptance_server().start() as fake:
        yield fake


@pytest.fixture(scope="module")
def config():
    return acceptance.load_config(acceptance.VALID_CONFIG_FILE)


@pytest.fixture(scope="module")
def catalog():
    return json.loads(acceptance.CATALOG_FILE.read_text())


def entry(section):
    (only,) = acceptance.acceptance_config()["acceptance_tests"][section]["tests"]
    return only


def test_the_file_is_at_high_strictness_and_names_the_files_checked_here():
    config = acceptance.acceptance_config()
    assert config["test_strictness_level"] == "high"
    sections = config["acceptance_tests"]
    assert set(sections) == {"spec", "connection", "discovery", "basic_read", "incremental", "full_refresh"}
    assert [test["status"] for test in sections["connection"]["tests"]] == ["succeed", "failed"]
    basic_read = entry("basic_read")
    assert basic_read["expect_records"]["path"] == "integration_tests/expected_records.jsonl"
    assert basic_read["expect_records"]["extra_records"] is False and basic_read["empty_streams"] == []
    assert entry("incremental")["future_state"]["future_state_path"] == "integration_tests/abnormal_state.json"
    for section in ("basic_read", "incremental", "full_refresh"):
        assert entry(section)["configured_catalog_path"] == "integration_tests/configured_catalog.json", section
        assert entry(section)["config_path"] == "integration_tests/valid_config.json", section
    for section in config["acceptance_tests"].values():
        for test in section["tests"]:
            for name in ("config_path", "configured_catalog_path", "spec_path"):
                assert name not in test or acceptance.project_file(test[name]).is_file(), test[name]


def test_the_standard_tests_see_the_file_without_only_the_keys_checked_here():
    config = acceptance.acceptance_config()
    seen = acceptance.for_the_standard_tests(config)
    assert "expect_records" not in seen["acceptance_tests"]["basic_read"]["tests"][0]
    del config["acceptance_tests"]["basic_read"]["tests"][0]["expect_records"]
    assert seen == config


def test_the_configured_catalog_holds_every_discovered_stream_as_discovered(server, config, catalog):
    discovered = run("discover", config)
    assert discovered.returncode == 0, discovered.output[-3000:]
    streams = {stream["name"]: stream for stream in discovered.of_type("CATALOG")[0]["catalog"]["streams"]}
    assert [configured["stream"]["name"] for configured in catalog["streams"]] == list(streams)
    assert set(streams) == set(STREAMS)
    for configured in catalog["streams"]:
        stream = streams[configured["stream"]["name"]]
        assert configured["sync_mode"] in stream["supported_sync_modes"]
        assert configured["cursor_field"] == stream["default_cursor_field"]
        assert configured["primary_key"] == stream["source_defined_primary_key"]


def test_the_expected_records_are_every_record_the_fake_serves(server):
    lines = acceptance.expected_record_lines()
    assert all(line["emitted_at"] == acceptance.EMITTED_AT for line in lines)
    for stream in STREAMS:
        expected = Counter(key(stream, line["data"]) for line in lines if line["stream"] == stream)
        served = Counter(key(stream, record) for record in server.records(stream))
        assert expected == served, stream


def test_a_full_refresh_emits_exactly_the_expected_records_and_the_same_twice(server, config, catalog):
    first, second = (acceptance.read_records(config, catalog) for _ in range(2))
    for read in (first, second):
        assert read.returncode == 0 and not read.errors(), read.output[-3000:]

    emitted = acceptance.record_lines([message["record"] for message in first.of_type("RECORD")])
    assert emitted == acceptance.expected_record_lines()
    again = acceptance.record_lines([message["record"] for message in second.of_type("RECORD")])
    assert again == emitted, "two consecutive full refreshes differ"


def test_an_incremental_read_from_the_future_state_emits_no_record_and_a_state_per_stream(server, config, catalog):
    future_state = json.loads(acceptance.FUTURE_STATE_FILE.read_text())
    incremental = [configured["stream"]["name"] for configured in catalog["streams"]
                   if "incremental" in configured["stream"]["supported_sync_modes"]]
    assert sorted(state["stream"]["stream_descriptor"]["name"] for state in future_state) == sorted(incremental)
    newest_served = max(from_iso(line["data"][STREAM_TABLE[line["stream"]].cursor])
                        for line in acceptance.expected_record_lines())
    for value in _state_values(future_state):
        moment = from_iso(value.replace("Z", "+00:00"))
        assert newest_served < moment <= datetime.now(timezone.utc), value

    read = acceptance.read_records(config, catalog, "incremental", state=future_state)

    assert read.returncode == 0 and not read.errors(), read.output[-3000:]
    assert read.records() == []
    assert {state["stream"]["stream_descriptor"]["name"] for state in read.final_states()} == set(incremental)


def _state_values(states):
    for state in states:
        stream_state = state["stream"]["stream_state"]
        for entry_ in stream_state.get("states", [{"cursor": stream_state}]):
            yield from entry_["cursor"].values()
