"""tickets.closed_by, messages.reactions and contacts.chat_ids: from the single-record endpoints, for the records
emitted that need them (details.py), concurrently, paced and retried like every request."""

import json

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
def test_a_ticket_deleted_meanwhile_is_emitted_without_closed_by_and_one_warning():
    gone = [a_record("tickets", ticket_id=f"BKT-00{n}", status="closed") for n in (1, 2)]
    with MockedApi() as http:
        http.get(*tickets(*gone))
        for record in gone:
            http.get(detail_request("tickets", record["ticket_id"]), error(404, {"code": "NOT_FOUND", "message": "Ticket not found"}))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert [r["ticket_id"] for r in record_data(output)] == ["BKT-001", "BKT-002"]
    assert all(r.get("closed_by") is None for r in record_data(output))
    warnings = [log for log in output.logs if "answered 404" in log.log.message]
    assert len(warnings) == 1 and "Stream tickets: GET /tickets/BKT-00" in warnings[0].log.message


@freeze_time(NOW)
def test_a_detail_request_that_keeps_failing_fails_the_stream_naming_it():
    closed = a_record("tickets", ticket_id="BKT-001", status="closed")
    with MockedApi() as http:
        http.get(*tickets(closed))
        http.get(detail_request("tickets", "BKT-001"), error(500))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().with_values(max_retries=2).build(), expect_error=True)

    assert "Stream tickets: GET /tickets/BKT-001 (for closed_by) failed: HTTP 500" in output.get_formatted_error_message()


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
