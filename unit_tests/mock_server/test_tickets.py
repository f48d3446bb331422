"""GET /tickets: org-level (no x-phone), newest created first, no time filter: read every page, filter locally."""

import json
from pathlib import Path

import pytest
from airbyte_cdk.models import SyncMode
from freezegun import freeze_time
from jsonschema import Draft7Validator

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import a_record, example_records, offset_pages, page, records
from unit_tests.mock_server.utils import MockedApi, final_state, read_stream, record_data

NOW = "2026-11-15T12:00:00Z"
SCHEMAS = Path(__file__).resolve().parents[2] / "source_periskope" / "schemas"


def tickets_page(offset, limit=100):
    return PeriskopeRequestBuilder.for_stream("tickets").with_page(offset, limit).build()


@freeze_time(NOW)
def test_full_refresh_emits_every_field_of_the_contract_example():
    with MockedApi() as http:
        http.get(tickets_page(0), page("tickets", example_records("tickets")))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    emitted = record_data(output)
    assert [r["ticket_id"] for r in emitted] == ["BKT-002", "BKT-001"]
    example = example_records("tickets")[0]
    # The CDK's serialiser leaves out top-level nulls; every field with a value must arrive.
    assert {key for key, value in example.items() if value is not None} <= set(emitted[0])
    assert emitted[0]["created_at"] == "2025-01-26T13:46:55.758677+00:00"
    assert emitted[0]["labels"] == [] and emitted[0]["custom_properties"] == {}


@freeze_time(NOW)
def test_full_refresh_pages_until_a_short_page_without_x_phone():
    first, second = records("tickets", 100), records("tickets", 30, newest="2026-10-01T00:00:00+00:00")
    for position, record in enumerate(second):
        record["ticket_id"] = f"late-{position}"
    with MockedApi() as http:
        for offset, tickets in offset_pages(first + second):
            http.get(tickets_page(offset), page("tickets", tickets, offset=offset))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

        assert len(output.records) == 130
        for request in http._mocker.request_history:
            assert "x-phone" not in request.headers


@freeze_time(NOW)
def test_json_encoded_fields_are_parsed():
    ticket = a_record("tickets", custom_properties='{"Region": "EU"}', label_ids='{"label-abc": true}', labels='["vip"]')
    with MockedApi() as http:
        http.get(tickets_page(0), page("tickets", [ticket]))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    emitted = record_data(output)[0]
    assert emitted["custom_properties"] == {"Region": "EU"}
    assert emitted["label_ids"] == {"label-abc": True}
    assert emitted["labels"] == ["vip"]


@freeze_time(NOW)
def test_incremental_emits_only_tickets_updated_after_the_state_and_saves_the_newest():
    updated_old_ticket = a_record("tickets", ticket_id="BKT-001", created_at="2025-01-01T00:00:00+00:00",
                                  last_updated_at="2026-11-14T09:30:00.123+00:00")
    unchanged = a_record("tickets", ticket_id="BKT-002", last_updated_at="2026-11-01T00:00:00+00:00")
    state = {"last_updated_at": "2026-11-10T00:00:00Z"}
    with MockedApi() as http:
        # created_at order: the updated old ticket is last, so every page must be read.
        http.get(tickets_page(0), page("tickets", [unchanged, updated_old_ticket]))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().build(), state=state)

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-001"]
    assert final_state(output)["last_updated_at"] >= "2026-11-14T09:30:00Z"


@freeze_time(NOW)
def test_incremental_first_sync_respects_start_date():
    before = a_record("tickets", ticket_id="old", last_updated_at="2026-09-30T23:59:59+00:00")
    after = a_record("tickets", ticket_id="new", last_updated_at="2026-10-01T00:00:01+00:00")
    with MockedApi() as http:
        http.get(tickets_page(0), page("tickets", [after, before]))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().with_start_date("2026-10-01").build())

    assert [r["ticket_id"] for r in record_data(output)] == ["new"]


@freeze_time(NOW)
def test_incremental_reads_on_past_full_pages_that_hold_nothing_new():
    """Two full pages of tickets all older than the state are two different pages, not a server ignoring offset."""
    old_pages = [records("tickets", 100, newest="2026-10-01T00:00:00+00:00"), records("tickets", 100, newest="2026-09-01T00:00:00+00:00")]
    for number, tickets in enumerate(old_pages):
        for ticket in tickets:
            ticket["ticket_id"] += f"-p{number}"
    updated = a_record("tickets", ticket_id="BKT-7", created_at="2024-01-01T00:00:00+00:00", last_updated_at="2026-11-14T00:00:00+00:00")
    with MockedApi() as http:
        for offset, tickets in offset_pages(old_pages[0] + old_pages[1] + [updated]):
            http.get(tickets_page(offset), page("tickets", tickets, offset=offset))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().build(), state={"last_updated_at": "2026-11-10T00:00:00Z"})

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-7"]


@freeze_time(NOW)
def test_the_state_is_never_later_than_the_sync_start_less_five_minutes():
    """Tickets are listed by creation: one updated while the sync read later pages is read again next time."""
    just_updated = a_record("tickets", ticket_id="BKT-9", last_updated_at="2026-11-15T11:59:30+00:00")
    with MockedApi() as http:
        http.get(tickets_page(0), page("tickets", [just_updated]))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().build(), state={"last_updated_at": "2026-11-10T00:00:00Z"})

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-9"]
    assert final_state(output)["last_updated_at"] == "2026-11-15T11:55:00Z"


@freeze_time(NOW)
def test_lookback_days_re_reads_tickets_changed_before_the_state():
    slightly_older = a_record("tickets", ticket_id="BKT-3", last_updated_at="2026-11-09T12:00:00+00:00")
    too_old = a_record("tickets", ticket_id="BKT-2", last_updated_at="2026-11-08T12:00:00+00:00")
    with MockedApi() as http:
        http.get(tickets_page(0), page("tickets", [slightly_older, too_old]))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().with_lookback_days(1).build(),
                             state={"last_updated_at": "2026-11-10T00:00:00Z"})

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-3"]


@freeze_time(NOW)
def test_full_refresh_emits_every_ticket_whatever_its_cursor_says():
    future = a_record("tickets", ticket_id="BKT-F", last_updated_at="2026-11-16T12:00:00+00:00")  # a server clock ahead
    ancient = a_record("tickets", ticket_id="BKT-A", last_updated_at="2005-05-05T00:00:00+00:00")
    no_cursor = a_record("tickets", ticket_id="BKT-N", last_updated_at=None)
    with MockedApi() as http:
        http.get(tickets_page(0), page("tickets", [future, ancient, no_cursor]))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-F", "BKT-A", "BKT-N"]


@pytest.mark.parametrize(
    "labels, expected",
    [("vip, Follow up", ["vip", "Follow up"]), ("", []), ("1", ["1"]), ("null", ["null"]), ('["vip"]', ["vip"]), (["vip"], ["vip"])],
)
@freeze_time(NOW)
def test_labels_become_a_list_of_names_from_either_documented_shape(labels, expected):
    ticket = a_record("tickets", labels=labels)
    with MockedApi() as http:
        http.get(tickets_page(0), page("tickets", [ticket]))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    emitted = record_data(output)[0]
    assert emitted["labels"] == expected
    Draft7Validator(json.loads((SCHEMAS / "tickets.json").read_text())).validate(emitted)
