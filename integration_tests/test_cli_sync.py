"""The real `source-periskope` command against the fake server: every record, in both sync modes, nothing missed."""

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from integration_tests.conftest import connector_config
from integration_tests.connector_cli import STREAMS, configured_catalog, run
from unit_tests.test_schemas import PRIMARY_KEYS

SCHEMAS = Path(__file__).resolve().parent.parent / "source_periskope" / "schemas"


CURSORS = {"tickets": "last_updated_at", "messages": "timestamp", "chats": "updated_at", "contacts": "updated_at",
           "notifications": "timestamp", "notes": "timestamp", "reactions": "timestamp", "phones": "updated_at"}


def key(stream, record):
    return tuple(record[field] for field in PRIMARY_KEYS[stream])


def server_keys(server, stream):
    return {key(stream, record) for record in server.records(stream)}


def catalog_for(config, sync_mode):
    discovered = run("discover", config)
    assert discovered.returncode == 0, discovered.output
    return configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], sync_mode)


def read_all(config, sync_mode, state=None):
    result = run("read", config, catalog=catalog_for(config, sync_mode), state=state)
    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    return result


def test_full_refresh_emits_every_record_of_every_stream_exactly_once(fake_server):
    result = read_all(connector_config(fake_server), "full_refresh")

    for stream in STREAMS:
        emitted = Counter(key(stream, record) for record in result.records(stream))
        assert set(emitted) == server_keys(fake_server, stream), stream
        assert max(emitted.values()) == 1, f"{stream}: duplicates without any change during the sync"


def test_every_field_the_server_returns_is_declared_in_the_schema(fake_server):
    for stream in STREAMS:
        declared = set(json.loads((SCHEMAS / f"{stream}.json").read_text())["properties"])
        returned = set().union(*(record.keys() for record in fake_server.records(stream)))
        assert returned - declared == set(), f"{stream} returns fields its schema lacks"


def test_incremental_syncs_catch_new_and_changed_records_including_those_made_during_a_sync(fake_server):
    config = connector_config(fake_server, lookback_days=1)
    first = read_all(config, "incremental")
    emitted = {stream: {key(stream, r): r for r in first.records(stream)} for stream in STREAMS}
    for stream in STREAMS:
        assert set(emitted[stream]) == server_keys(fake_server, stream), stream

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
        assert set(emitted[stream]) == server_keys(fake_server, stream), f"{stream}: records missed"
    assert emitted["tickets"][(old_ticket["ticket_id"],)]["status"] == "closed"
    assert emitted["contacts"][(old_contact["contact_id"],)]["contact_name"] == "Renamed"
    edited = emitted["messages"][(recent_message["message_id"], recent_message["org_phone"])]
    assert edited["body"] == "edited" and edited["prev_body"] == recent_message["body"]


def test_a_no_change_incremental_sync_costs_one_request_per_phone_scoped_stream_and_number(fake_server):
    config = connector_config(fake_server)
    first = read_all(config, "incremental")
    fake_server.reset_counts()
    second = read_all(config, "incremental", state=first.final_states())

    # Only records changed within the settle margin before the first sync (the state stops 5 minutes short of
    # its start) are read again.
    settled = datetime.fromtimestamp(fake_server.now_us / 1e6, timezone.utc) - timedelta(minutes=5)
    for stream in STREAMS:
        cursor = CURSORS[stream]
        again = [r for r in second.records(stream) if datetime.fromisoformat(r[cursor]) < settled - timedelta(seconds=1)]
        assert again == [], stream
    numbers = [phone["number"] for phone in fake_server.phones if phone["wa_state"] == "CONNECTED"]
    for path in ("/v1/chats", "/v1/chats/messages", "/v1/chats/notifications", "/v1/note", "/v1/reactions"):
        for number in numbers:
            assert fake_server.request_count(path=path, phone=number) <= 2, (path, number)


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


def test_a_full_sync_makes_one_request_per_page_plus_one_per_window_and_a_few_probes(fake_server):
    page_size = 25
    result = read_all(connector_config(fake_server, page_size=page_size, window_days=30), "full_refresh")
    numbers = [phone["number"] for phone in fake_server.phones if phone["wa_state"] == "CONNECTED"]
    paths = {"chats": "/chats", "messages": "/chats/messages", "notifications": "/chats/notifications", "notes": "/note", "reactions": "/reactions"}
    for stream, path in paths.items():
        for number in numbers:
            log = [entry for entry in fake_server.request_log if entry[1] == path and entry[3] == number]
            pages = [entry for entry in log if entry[2].get("limit") == str(page_size)]
            probes = [entry for entry in log if entry[2].get("limit") == "1"]
            records = len(fake_server.records(stream, number))
            windows = len({(entry[2]["start_time"], entry[2]["end_time"]) for entry in pages})
            assert len(pages) <= -(-records // page_size) + windows, (stream, number, len(pages), records, windows)
            assert len(probes) <= 12, (stream, number, len(probes))  # finding where history begins: ~log2(6,500 days / 7)
    for stream, path in {"tickets": "/tickets", "contacts": "/contacts"}.items():
        requests = fake_server.request_count(path=path)
        assert requests == len(fake_server.records(stream)) // page_size + 1, stream
    assert fake_server.request_count(path="/phones/all") <= 2  # the stream, plus the phone list when ids need resolving
    assert len(result.records("messages")) == len(fake_server.records("messages"))


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
