"""Paging and filtering on the fake Periskope server: envelopes (from/to/count),
limits and offsets, newest-first order, and the start_time/end_time filters.

Run: .venv/bin/python -m pytest integration_tests/test_fake_paging_and_filters.py -q
"""

import pytest

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.fake_periskope.timefmt import parse_record_ts
from integration_tests.fake_server_fixtures import PINNED_NOW, call, fresh, records_of, server, times  # noqa: F401  (fixtures)

# (path, records key, sort field) for the timestamp-ordered list endpoints.
TIME_ORDERED = [
    ("/chats/messages", "messages", "timestamp"),
    ("/chats/notifications", "messages", "timestamp"),
    ("/note", "notes", "timestamp"),
    ("/reactions", "reactions", "timestamp"),
    ("/chats", "chats", "updated_at"),
]


# -- paging and envelopes -----------------------------------------------------------
def test_envelope_from_to_count(server):
    body = call(server, "/chats/messages", offset=10, limit=7).json()
    assert list(body) == ["from", "to", "count", "messages"]
    assert (body["from"], body["to"], body["count"], len(body["messages"])) == (11, 17, 7, 7)
    whole = records_of(call(server, "/chats/messages", limit=50), "messages")
    assert body["messages"] == whole[10:17]


def test_past_the_end_page(server):
    body = call(server, "/tickets", phone=None, offset=5000, limit=100).json()
    assert body == {"from": 5001, "to": 5000, "count": 0, "tickets": []}
    last = call(server, "/tickets", phone=None, offset=75, limit=100).json()
    assert (last["from"], last["to"], last["count"]) == (76, 80, 5)


def test_default_limits():
    with FakePeriskope(sizes={"notes": 600, "reactions": 600, "messages": 2100}, now=PINNED_NOW).start() as big:
        assert call(big, "/note").json()["count"] == 500
        assert call(big, "/reactions").json()["count"] == 500
        assert call(big, "/chats/messages").json()["count"] == 2000


def test_limit_cap_and_strict_switch(server):
    assert call(server, "/chats/messages", limit=2000).status_code == 200
    response = call(server, "/chats/messages", limit=2001)
    assert response.status_code == 422
    assert response.json() == {
        "code": "VALIDATION_ERROR",
        "fields": {"limit": {"message": "Limit should be less than 2000", "value": "2001"}},
        "message": "Limit should be less than 2000",
        "name": "Validation Error",
        "status": 422,
    }
    server.strict_limit = True
    try:
        assert call(server, "/chats/messages", limit=2000).status_code == 422
        assert call(server, "/chats/messages", limit=1999).status_code == 200
    finally:
        server.strict_limit = False


@pytest.mark.parametrize("params", [{"limit": "ten"}, {"offset": "1.5"}, {"offset": "-1"}, {"limit": "0"}, {"limit": ""}])
def test_bad_paging_values_are_422(server, params):
    response = call(server, "/chats/messages", **params)
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert set(response.json()["fields"]) <= {"limit", "offset"}


def test_count_switches(fresh):
    fresh.count_is_total = True
    assert call(fresh, "/chats/messages", limit=10).json()["count"] == 500
    fresh.count_is_total = False
    fresh.omit_count = True
    assert "count" not in call(fresh, "/chats/messages", limit=10).json()


# -- ordering and time filters ------------------------------------------------------------
@pytest.mark.parametrize("path,key,field", TIME_ORDERED)
def test_newest_first(server, path, key, field):
    for phone in server.phones:
        values = times(records_of(call(server, path, phone=phone["number"]), key), field)
        assert len(values) > 10
        assert values == sorted(values, reverse=True)


def test_org_streams_order(server):
    tickets = records_of(call(server, "/tickets", phone=None), "tickets")
    assert tickets[0]["ticket_id"] == "BKT-080" and tickets[-1]["ticket_id"] == "BKT-001"
    assert times(tickets, "created_at") == sorted(times(tickets, "created_at"), reverse=True)
    contacts = records_of(call(server, "/contacts", phone=None), "contacts")
    assert times(contacts, "updated_at") == sorted(times(contacts, "updated_at"), reverse=True)
    phones = call(server, "/phones/all", phone=None).json()
    assert times(phones, "created_at") == sorted(times(phones, "created_at"))


@pytest.mark.parametrize("path,key,field", TIME_ORDERED)
def test_time_filter_is_inclusive_on_both_bounds(server, path, key, field):
    everything = records_of(call(server, path), key)
    newer, older = everything[5], everything[15]
    window = records_of(call(server, path, start_time=older[field], end_time=newer[field]), key)
    expected = [r for r in everything if parse_record_ts(older[field]) <= parse_record_ts(r[field]) <= parse_record_ts(newer[field])]
    assert window == expected
    assert window[0] == newer and window[-1] == older


def test_time_filter_formats(server):
    everything = records_of(call(server, "/chats/messages"), "messages")
    day = everything[50]["timestamp"][:10]
    same_day = [m for m in everything if m["timestamp"].startswith(day)]
    by_date = records_of(call(server, "/chats/messages", start_time=day, end_time=day), "messages")
    assert by_date == same_day  # a date-only end_time is the end of that day
    for start, end in [(f"{day}T00:00:00Z", f"{day}T23:59:59.999Z"), (f"{day}T00:00:00+00:00", f"{day}T23:59:59.999999+00:00")]:
        assert records_of(call(server, "/chats/messages", start_time=start, end_time=end), "messages") == same_day


@pytest.mark.parametrize("value", ["2025-13-01", "2025-04-31", "yesterday", "2025-01-01T00:00:00", "2025-01-01 00:00:00Z",
                                   "1735689600"])
def test_bad_time_filter_is_422_naming_the_field(server, value):
    response = call(server, "/chats/messages", end_time=value)
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["end_time"]


def test_time_filters_ignored_where_not_supported(server):
    far_future = "2099-01-01"
    assert call(server, "/tickets", phone=None, start_time=far_future).json()["count"] == 80
    assert call(server, "/contacts", phone=None, start_time=far_future).json()["count"] == 150
    chat_id = records_of(call(server, "/chats/messages", limit=1), "messages")[0]["chat_id"]
    per_chat = call(server, f"/chats/{chat_id}/messages", start_time=far_future).json()
    assert per_chat["count"] > 0
    assert call(server, "/chats/messages", start_time=far_future).json()["count"] == 0


def test_notes_and_reactions_echo_the_window(server):
    for path in ("/note", "/reactions"):
        body = call(server, path, start_time="2025-05-01T00:00:00Z", end_time="2025-05-31").json()
        assert body["start_time"] == "2025-05-01T00:00:00Z" and body["end_time"] == "2025-05-31"
        assert list(body)[:3] == ["from", "start_time", "end_time"]
        assert "start_time" not in call(server, path).json()
