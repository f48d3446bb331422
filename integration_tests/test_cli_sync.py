"""The real `source-periskope` command against the fake server: every record, in both sync modes, nothing missed."""

import json
from collections import Counter

import pytest

from integration_tests.support.connector import configured_catalog, run
from integration_tests.support.paths import PROJECT_ROOT
from integration_tests.support.servers import connector_config
from unit_tests.stream_table import NAMES as STREAMS
from unit_tests.stream_table import key, keys_of

SCHEMAS = PROJECT_ROOT / "source_periskope" / "schemas"


def catalog_for(config, sync_mode):
    discovered = run("discover", config)
    assert discovered.returncode == 0, discovered.output
    return configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], sync_mode)


def read_all(config, sync_mode, state=None):
    result = run("read", config, catalog=catalog_for(config, sync_mode), state=state)
    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    return result


def test_full_refresh_emits_every_record_of_every_stream_exactly_once(organisation):
    result = read_all(connector_config(organisation), "full_refresh")

    for stream in STREAMS:
        emitted = Counter(key(stream, record) for record in result.records(stream))
        assert set(emitted) == keys_of(stream, organisation.records(stream)), stream
        assert max(emitted.values()) == 1, f"{stream}: duplicates without any change during the sync"


def test_every_field_the_server_returns_is_declared_in_the_schema(fake_server):
    for stream in STREAMS:
        declared = set(json.loads((SCHEMAS / f"{stream}.json").read_text())["properties"])
        returned = set().union(*(record.keys() for record in fake_server.records(stream)))
        assert returned - declared == set(), f"{stream} returns fields its schema lacks"


def test_incremental_syncs_catch_new_and_changed_records_including_those_made_during_a_sync(organisation):
    fake_server = organisation
    config = connector_config(fake_server, lookback_days=1)
    first = read_all(config, "incremental")
    emitted = {stream: {key(stream, r): r for r in first.records(stream)} for stream in STREAMS}
    for stream in STREAMS:
        assert set(emitted[stream]) == keys_of(stream, fake_server.records(stream)), stream

    # Between syncs: new records, an old ticket and contact updated, a message edited and a chat updated.
    old_ticket = fake_server.records("tickets")[-1]
    fake_server.update_record("tickets", old_ticket["ticket_id"], status="closed")
    old_contact = fake_server.records("contacts")[-1]
    fake_server.update_record("contacts", old_contact["contact_id"], contact_name="Renamed")
    recent_message = fake_server.records("messages", fake_server.phones[0]["number"])[3]
    fake_server.update_record("messages", recent_message["message_id"], phone=fake_server.phones[0]["number"], body="edited")
    for stream in ("tickets", "contacts", "messages", "chats", "notifications", "notes", "reactions"):
        fake_server.add_record(stream)

    # During the next sync: more records arrive after the first few requests.
    def add_during_sync(request_number, path, query):
        if request_number == 3:
            for stream in ("messages", "tickets", "notes"):
                fake_server.add_record(stream)
    fake_server.on_request = add_during_sync
    second = read_all(config, "incremental", state=first.final_states())
    fake_server.on_request = None
    third = read_all(config, "incremental", state=second.final_states())

    for sync in (second, third):
        for stream in STREAMS:
            emitted[stream].update({key(stream, r): r for r in sync.records(stream)})
    for stream in STREAMS:
        assert set(emitted[stream]) == keys_of(stream, fake_server.records(stream)), f"{stream}: records missed"
    assert emitted["tickets"][(old_ticket["ticket_id"],)]["status"] == "closed"
    assert emitted["contacts"][(old_contact["contact_id"],)]["contact_name"] == "Renamed"
    edited = emitted["messages"][(recent_message["message_id"], recent_message["org_phone"])]
    assert edited["body"] == "edited" and edited["prev_body"] == recent_message["body"]


@pytest.mark.parametrize("command", ["check", "discover", "read"])
def test_the_api_key_never_appears_in_any_output_even_at_debug_level(fake_server, command):
    config = connector_config(fake_server, api_key="wrong-key-" + "s3cr3t" * 4)
    catalog = catalog_for(connector_config(fake_server), "full_refresh") if command == "read" else None
    result = run(command, config, catalog=catalog, extra_args=["--debug"])
    assert "s3cr3t" not in result.output


def test_the_cli_writes_the_records_an_in_process_read_emits(fake_server):
    """The CLI's fast record writer changes nothing but keeping null fields (see source_periskope/output.py)."""
    from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer
    from airbyte_cdk.test.entrypoint_wrapper import read

    from source_periskope import SourcePeriskope

    config = connector_config(fake_server)
    catalog = catalog_for(config, "full_refresh")
    cli = read_all(config, "full_refresh")
    configured = ConfiguredAirbyteCatalogSerializer.load(catalog)
    in_process = read(SourcePeriskope(config=config, catalog=configured), config, configured)

    def canonical(data):
        return json.dumps({k: v for k, v in data.items() if v is not None}, sort_keys=True)

    for stream in STREAMS:
        expected = sorted(canonical(m.record.data) for m in in_process.records if m.record.stream == stream)
        assert sorted(canonical(r) for r in cli.records(stream)) == expected, stream


@pytest.mark.parametrize("command", ["check", "read"])
def test_a_valid_api_key_never_appears_in_a_succeeding_run_at_debug_level(command):
    from integration_tests.fake_periskope import FakePeriskope

    secret = "valid-" + "k3y" * 8
    with FakePeriskope(seed=3, api_key=secret, sizes={"messages": 50}).start() as server:
        config = connector_config(server)
        catalog = catalog_for(config, "full_refresh") if command == "read" else None
        result = run(command, config, catalog=catalog, extra_args=["--debug"])

    assert result.returncode == 0 and not result.errors(), result.output[-2000:]
    assert result.of_type("RECORD") if command == "read" else result.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"
    assert "k3yk3y" not in result.output
