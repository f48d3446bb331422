"""GET /tickets: org-level (no x-phone), newest created first, no time filter: read every page, filter locally."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from freezegun import freeze_time

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import a_record, example_records, page, records
from unit_tests.mock_server.utils import final_state, read_stream, record_data

NOW = "2026-11-15T12:00:00Z"


def tickets_page(offset, limit=100):
    return PeriskopeRequestBuilder.for_stream("tickets").with_page(offset, limit).build()


@freeze_time(NOW)
def test_full_refresh_emits_every_field_of_the_contract_example():
    with HttpMocker() as http:
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
    with HttpMocker() as http:
        http.get(tickets_page(0), page("tickets", first))
        http.get(tickets_page(100), page("tickets", second, offset=100))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

        assert len(output.records) == 130
        for request in http._mocker.request_history:
            assert "x-phone" not in request.headers


@freeze_time(NOW)
def test_json_encoded_fields_are_parsed():
    ticket = a_record("tickets", custom_properties='{"Region": "EU"}', label_ids='{"label-abc": true}', labels='["vip"]')
    with HttpMocker() as http:
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
    with HttpMocker() as http:
        # created_at order: the updated old ticket is last, so every page must be read.
        http.get(tickets_page(0), page("tickets", [unchanged, updated_old_ticket]))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().build(), state=state)

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-001"]
    assert final_state(output)["last_updated_at"] >= "2026-11-14T09:30:00Z"


@freeze_time(NOW)
def test_incremental_first_sync_respects_start_date():
    before = a_record("tickets", ticket_id="old", last_updated_at="2026-09-30T23:59:59+00:00")
    after = a_record("tickets", ticket_id="new", last_updated_at="2026-10-01T00:00:01+00:00")
    with HttpMocker() as http:
        http.get(tickets_page(0), page("tickets", [after, before]))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().with_start_date("2026-10-01").build())

    assert [r["ticket_id"] for r in record_data(output)] == ["new"]
