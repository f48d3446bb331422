"""tickets.closed_by, messages.reactions and contacts.chat_ids: from the single-record endpoints, for the records
emitted that need them (details.py), concurrently, paced and retried like every request."""

import json

import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpResponse
from freezegun import freeze_time

from unit_tests.mock_server.config import PHONE, ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder, detail_request
from unit_tests.mock_server.response_builder import a_record, error, page
from unit_tests.mock_server.utils import MockedApi, final_state, read_stream, record_data

NOW = "2026-11-15T12:00:00Z"
FIRST_WINDOW = ("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z")
SECOND_WINDOW = ("2026-10-31T00:00:00Z", "2026-11-15T12:00:01Z")


def ticket_info(ticket_id, closed_by):
    """GET /tickets/{id} (contract 2.2): TicketInfo, closed_by inside its `ticket` object."""
    return HttpResponse(json.dumps({"attached_messages": [], "chat": {}, "message": {},
                                    "ticket": {"ticket_id": ticket_id, "status": "closed", "closed_by": closed_by}}))


def tickets(*records):
    return PeriskopeRequestBuilder.for_stream("tickets").with_page(0).build(), page("tickets", list(records))


@freeze_time(NOW)
def test_a_closed_ticket_gets_closed_by_from_its_own_endpoint_and_an_open_one_costs_nothing():
    closed = a_record("tickets", ticket_id="BKT-001", status="closed", closed_at="2026-11-14T10:00:00+00:00")
    still_open = a_record("tickets", ticket_id="BKT-002", status="open", closed_at=None)
    with MockedApi() as http:
        http.get(*tickets(closed, still_open))
        http.get(detail_request("tickets", "BKT-001"), ticket_info("BKT-001", "agent@acme.in"))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    by_id = {r["ticket_id"]: r for r in record_data(output)}
    assert by_id["BKT-001"]["closed_by"] == "agent@acme.in"
    assert by_id["BKT-002"].get("closed_by") is None


@freeze_time(NOW)
def test_an_incremental_sync_asks_only_for_the_tickets_it_emits_and_the_state_is_the_lists():
    old_closed = a_record("tickets", ticket_id="BKT-001", status="closed", last_updated_at="2026-10-01T00:00:00+00:00")
    newly_closed = a_record("tickets", ticket_id="BKT-003", status="closed", last_updated_at="2026-11-14T00:00:00+00:00")
    with MockedApi() as http:
        http.get(*tickets(newly_closed, old_closed))
        http.get(detail_request("tickets", "BKT-003"), ticket_info("BKT-003", "agent@acme.in"))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().build(), state={"last_updated_at": "2026-11-10T00:00:00Z"})

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-003"]
    assert final_state(output)["last_updated_at"] == "2026-11-14T00:00:00Z"


@freeze_time(NOW)
def test_a_ticket_deleted_meanwhile_is_emitted_without_closed_by_and_one_warning_with_the_count():
    gone = [a_record("tickets", ticket_id=f"BKT-00{n}", status="closed") for n in (1, 2)]
    with MockedApi() as http:
        http.get(*tickets(*gone))
        for record in gone:
            http.get(detail_request("tickets", record["ticket_id"]), error(404, {"code": "NOT_FOUND", "message": "Ticket not found"}))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-001", "BKT-002"]
    assert all(r.get("closed_by") is None for r in record_data(output))
    warnings = [log.log.message for log in output.logs if "without closed_by" in log.log.message]
    assert len(warnings) == 1 and warnings[0].startswith("Stream tickets: 2 records emitted without closed_by"), warnings
    assert "GET /tickets/BKT-00" in warnings[0] and "HTTP 404 Ticket not found (deleted meanwhile?)" in warnings[0]


@freeze_time(NOW)
@pytest.mark.parametrize("failure", [[error(500)] * 3, [error(410, {"message": "Gone"})], [error(422, {"message": "Invalid id"})]],
                         ids=["persistent 500", "410", "422"])
def test_a_detail_request_that_keeps_failing_is_a_missing_field_and_the_stream_goes_on(failure):
    closed = [a_record("tickets", ticket_id=f"BKT-00{n}", status="closed") for n in (1, 2)]
    with MockedApi() as http:
        http.get(*tickets(*closed))
        http.get(detail_request("tickets", "BKT-001"), failure)
        http.get(detail_request("tickets", "BKT-002"), ticket_info("BKT-002", "agent@acme.in"))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().with_values(max_retries=2).build())

    by_id = {r["ticket_id"]: r for r in record_data(output)}
    assert by_id["BKT-001"].get("closed_by") is None and by_id["BKT-002"]["closed_by"] == "agent@acme.in"
    warnings = [log.log.message for log in output.logs if "without closed_by" in log.log.message]
    assert len(warnings) == 1 and "Stream tickets: 1 record emitted without closed_by" in warnings[0]
    assert f"GET /tickets/BKT-001: HTTP {failure[0].status_code}" in warnings[0]


@freeze_time(NOW)
def test_a_refused_key_on_a_detail_request_still_fails_the_stream():
    closed = a_record("tickets", ticket_id="BKT-001", status="closed")
    with MockedApi() as http:
        http.get(*tickets(closed))
        http.get(detail_request("tickets", "BKT-001"), error(401, {"message": "Invalid API key"}))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build(), expect_error=True)

    assert "Stream tickets: GET /tickets/BKT-001 (for closed_by) failed: HTTP 401" in output.get_formatted_error_message()


@freeze_time(NOW)
def test_closed_by_can_be_turned_off():
    closed = a_record("tickets", ticket_id="BKT-001", status="closed")
    with MockedApi() as http:
        http.get(*tickets(closed))  # and no other request
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().with_values(fetch_ticket_closed_by=False).build())

    assert record_data(output)[0].get("closed_by") is None


@freeze_time(NOW)
def test_a_message_with_reactions_gets_them_through_its_number_and_others_cost_nothing():
    reacted = a_record("messages", message_id="m-reacted", has_reaction=True, timestamp="2026-11-14T10:00:00+00:00")
    unknown = a_record("messages", message_id="m-null", has_reaction=None, timestamp="2026-11-14T09:00:00+00:00")
    reactions = [{"reaction_id": "r1", "reaction": "👍", "message_id": "m-reacted"}]
    with MockedApi() as http:
        window = lambda w: PeriskopeRequestBuilder.for_stream("messages").with_window(*w).with_page(0).build()  # noqa: E731
        http.get(window(FIRST_WINDOW), page("messages", []))
        http.get(window(SECOND_WINDOW), page("messages", [reacted, unknown]))
        http.get(detail_request("messages", "m-reacted", phone=PHONE), HttpResponse(json.dumps({**reacted, "reactions": reactions})))
        output = read_stream("messages", SyncMode.incremental, ConfigBuilder().with_values(fetch_message_reactions=True).build())

    by_id = {r["message_id"]: r for r in record_data(output)}
    assert by_id["m-reacted"]["reactions"] == reactions
    assert by_id["m-null"].get("reactions") is None  # has_reaction null says nothing: not fetched


@freeze_time(NOW)
def test_a_contact_gets_its_chat_ids_when_asked_by_its_digits():
    contact = a_record("contacts", contact_id="919537851844@c.us")
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("contacts").with_page(0).build(), page("contacts", [contact]))
        http.get(detail_request("contacts", "919537851844"),
                 HttpResponse(json.dumps({**contact, "chat_ids": ["120363231636311517@g.us", "919537851844@c.us"]})))
        output = read_stream("contacts", SyncMode.full_refresh, ConfigBuilder().with_values(fetch_contact_chat_ids=True).build())

    assert record_data(output)[0]["chat_ids"] == ["120363231636311517@g.us", "919537851844@c.us"]


@freeze_time(NOW)
def test_chat_ids_sent_as_a_json_encoded_string_become_an_array_like_the_lists_fields():
    contact = a_record("contacts", contact_id="919537851844@c.us")
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("contacts").with_page(0).build(), page("contacts", [contact]))
        http.get(detail_request("contacts", "919537851844"),
                 HttpResponse(json.dumps({**contact, "chat_ids": json.dumps(["120363231636311517@g.us", "919537851844@c.us"])})))
        output = read_stream("contacts", SyncMode.full_refresh, ConfigBuilder().with_values(fetch_contact_chat_ids=True).build())

    assert record_data(output)[0]["chat_ids"] == ["120363231636311517@g.us", "919537851844@c.us"]


def test_detail_requests_wait_request_timeout_seconds_for_an_answer_and_a_timeout_is_a_missing_field():
    import requests
    import requests_mock

    from source_periskope.config import normalize_config
    from source_periskope.details import DetailRequests, missing_report
    from unit_tests.mock_server.config import BASE_URL

    config = normalize_config({**ConfigBuilder().with_values(request_timeout_seconds=7, max_retries=1).build(), "base_url": BASE_URL})
    record = {"ticket_id": "BKT-001", "status": "closed"}
    missing_report()
    with requests_mock.Mocker() as http:
        answer = http.get(f"{BASE_URL}/tickets/BKT-001", exc=requests.exceptions.ReadTimeout)
        DetailRequests("tickets", config).complete([record])

    assert answer.call_count == 2 and answer.last_request.timeout[1] == 7
    assert record.get("closed_by") is None
    assert missing_report() == [
        "Stream tickets: 1 record emitted without closed_by: its single-record request could not be had after its "
        f"retries (first: GET /tickets/BKT-001: Could not reach Periskope at {BASE_URL} (ReadTimeout). Check base_url and "
        "that this machine can reach the API.). A later sync fills it if the record is emitted again."
    ]
