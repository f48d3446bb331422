"""Contract tests for the fake Periskope server (integration_tests/fake_periskope).

Run: .venv/bin/python -m pytest integration_tests/test_fake_server.py -q
"""

import email.utils
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
import requests

from integration_tests.fake_periskope import ALL_KINDS, FakePeriskope, FaultSettings
from integration_tests.fake_periskope.timefmt import parse_record_ts

REPO_ROOT = Path(__file__).resolve().parents[1]
PINNED_NOW = "2025-06-01T12:00:00Z"

MISSING_PHONE_BODY = {
    "code": "VALIDATION_ERROR",
    "fields": {"x-phone": {"message": "Please provide the number of the phone ..."}},
    "message": "Missing Header: {x-phone}",
    "name": "Validation Error",
    "status": 422,
}
UNAUTHORIZED_BODY = {"code": "UNAUTHORIZED", "message": "Invalid API key", "name": "Unauthorized", "status": 401}

# (path, records key, sort field) for the timestamp-ordered list endpoints.
TIME_ORDERED = [
    ("/chats/messages", "messages", "timestamp"),
    ("/chats/notifications", "messages", "timestamp"),
    ("/note", "notes", "timestamp"),
    ("/reactions", "reactions", "timestamp"),
    ("/chats", "chats", "updated_at"),
]


# -- helpers ----------------------------------------------------------------------
def call(server, path, phone="first", key=None, **params):
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    if phone == "first":
        phone = server.phones[0]["number"]
    if phone:
        headers["x-phone"] = phone
    return requests.get(server.base_url + path, headers=headers, params=params, timeout=10)


def records_of(response, key):
    assert response.status_code == 200, response.text
    return response.json()[key]


def times(records, field):
    return [parse_record_ts(r[field]) for r in records]


@pytest.fixture(scope="module")
def server():
    """A shared, read-only server (tests that change data use `fresh`)."""
    with FakePeriskope(seed=42, now=PINNED_NOW).start() as running:
        yield running


@pytest.fixture
def fresh():
    with FakePeriskope(seed=7, now=PINNED_NOW).start() as running:
        yield running


# -- auth and x-phone -------------------------------------------------------------
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "test-api-key", "Basic dGVzdA=="])
def test_missing_or_wrong_key_is_401(server, authorization):
    headers = {"x-phone": server.phones[0]["number"]}
    if authorization:
        headers["Authorization"] = authorization
    response = requests.get(server.base_url + "/chats/messages", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED_BODY


@pytest.mark.parametrize("path", ["/chats", "/chats/messages", "/chats/notifications", "/note", "/notes",
                                  "/reactions", "/phones", "/message/some-id"])
def test_missing_x_phone_is_422_with_the_seen_body(server, path):
    response = call(server, path, phone=None)
    assert response.status_code == 422
    assert response.json() == MISSING_PHONE_BODY


def test_phone_outside_the_keys_organisation_is_401(server):
    assert call(server, "/chats", phone="14155550123").status_code == 401  # the other org's phone
    assert call(server, "/chats", phone="919999999999").status_code == 401  # nobody's phone
    assert call(server, "/chats", phone="919876543210@c.us").status_code == 401  # JID form is not accepted
    other = call(server, "/chats", phone="14155550123", key="other-org-key")
    assert other.status_code == 200
    assert {c["org_phone"] for c in other.json()["chats"]} == {"14155550123@c.us"}
    assert call(server, "/chats", phone=server.phones[0]["number"], key="other-org-key").status_code == 401


def test_phone_id_form_of_x_phone(server):
    second = server.phones[1]
    assert re.fullmatch(r"phone-[a-z]{16}", second["phone_id"])
    messages = records_of(call(server, "/chats/messages", phone=second["phone_id"], limit=5), "messages")
    assert {m["org_phone"] for m in messages} == {second["org_phone"]}


@pytest.mark.parametrize("path", ["/tickets", "/contacts", "/phones/all"])
def test_org_level_endpoints_ignore_x_phone(server, path):
    without = call(server, path, phone=None)
    with_bogus = call(server, path, phone="not-a-phone")
    assert without.status_code == with_bogus.status_code == 200
    assert without.json() == with_bogus.json()


def test_unknown_paths_and_ids_are_404(server):
    for path in ("/nope", "/chats/messages/extra/segments", "/tickets/BKT-999", "/message/unknown"):
        response = call(server, path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "NOT_FOUND"
    assert requests.post(server.base_url + "/tickets", headers={"Authorization": "Bearer test-api-key"},
                         timeout=10).status_code == 404
    outside = requests.get(server.base_url.replace("/v1", "/tickets"), headers={"Authorization": "Bearer test-api-key"},
                           timeout=10)
    assert outside.status_code == 404 and server.stats()["outside_api_requests"] == {"/tickets": 1}


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


# -- endpoints ------------------------------------------------------------------------
def test_phones_endpoints():
    with FakePeriskope(disconnected_phones=1, now=PINNED_NOW).start() as srv:
        phones = call(srv, "/phones/all", phone=None).json()
        assert isinstance(phones, list) and len(phones) == 3
        assert [p["wa_state"] for p in phones] == ["CONNECTED", "CONNECTED", "DISCONNECTED"]
        assert all(len(p) == 13 for p in phones)
        disconnected = phones[2]
        assert disconnected["is_ready"] is False and disconnected["qr_code"]
        assert [p["wa_state"] for p in srv.phones] == ["CONNECTED", "CONNECTED", "DISCONNECTED"]
        current = call(srv, "/phones", phone=srv.phones[1]["number"]).json()
        assert current["org_phone"] == "918527184400@c.us" and current["phone_id"] == srv.phones[1]["phone_id"]


def test_note_and_notes_are_both_served(server):
    singular = call(server, "/note", limit=20).json()
    plural = call(server, "/notes", limit=20).json()
    assert singular == plural and singular["count"] == 20
    note_id = singular["notes"][3]["message_id"]
    assert re.fullmatch(r"true_[0-9a-f-]{36}_\S+", note_id)
    for path in (f"/note/{note_id}", f"/notes/{note_id}"):
        assert call(server, path).json() == singular["notes"][3]
    chat_id = singular["notes"][3]["chat_id"]
    in_chat = records_of(call(server, f"/chats/{chat_id}/notes"), "notes")
    assert singular["notes"][3] in in_chat and all(n["chat_id"] == chat_id for n in in_chat)


def test_notifications_key_switch(fresh):
    assert "messages" in call(fresh, "/chats/notifications", limit=2).json()
    for key in ("notifictions", "notifications"):
        fresh.notifications_key = key
        assert key in call(fresh, "/chats/notifications", limit=2).json()
        chat_id = fresh.records("notifications", fresh.phones[0]["number"])[0]["chat_id"]
        assert key in call(fresh, f"/chats/{chat_id}/notifications").json()


def test_per_chat_endpoints(server):
    chats = records_of(call(server, "/chats"), "chats")
    chat = next(c for c in chats if c["chat_type"] == "group")
    all_messages = records_of(call(server, "/chats/messages"), "messages")
    in_chat = records_of(call(server, f"/chats/{chat['chat_id']}/messages"), "messages")
    assert in_chat == [m for m in all_messages if m["chat_id"] == chat["chat_id"]]
    one = call(server, f"/chats/{chat['chat_id']}").json()
    assert one["chat_id"] == chat["chat_id"] and "members" in one
    assert call(server, f"/chats/{chat['chat_id'].split('@')[0]}").status_code == 200  # suffix optional


def test_single_record_endpoints(server):
    message = records_of(call(server, "/chats/messages", limit=50), "messages")[20]
    assert {k: v for k, v in call(server, f"/message/{message['message_id']}").json().items() if k != "reactions"} == message
    reaction = records_of(call(server, "/reactions", limit=1), "reactions")[0]
    with_reactions = call(server, f"/message/{reaction['message_id']}").json()
    assert reaction in with_reactions["reactions"]
    filtered = records_of(call(server, "/reactions", message_id=reaction["message_id"]), "reactions")
    assert reaction in filtered and all(r["message_id"] == reaction["message_id"] for r in filtered)
    contact = records_of(call(server, "/contacts", phone=None), "contacts")[0]
    detail = call(server, f"/contacts/{contact['contact_id'].split('@')[0]}", phone=None).json()
    assert set(detail) == set(contact) | {"chat_ids"}
    info = call(server, "/tickets/BKT-001", phone=None).json()
    assert set(info) == {"attached_messages", "chat", "message", "ticket"}
    assert info["ticket"]["ticket_id"] == "BKT-001" and "ticket_labels" in info["ticket"]


# -- record shapes ------------------------------------------------------------------------
MESSAGE_COLUMNS = 52


def test_record_shapes(server):
    message = records_of(call(server, "/chats/messages", limit=1), "messages")[0]
    assert len(message) == MESSAGE_COLUMNS
    assert message["id"] == {"from_me": message["from_me"], "id": message["unique_id"], "remote": message["chat_id"],
                             "serialized": message["message_id"]}
    assert re.fullmatch(r"(true|false)_\d+@[cg]\.us_[0-9A-F]+", message["message_id"])
    notification = records_of(call(server, "/chats/notifications", limit=1), "messages")[0]
    assert len(notification) == 12 and set(notification["id"]) == {"fromMe", "id", "remote", "serialized"}
    reaction = records_of(call(server, "/reactions", limit=1), "reactions")[0]
    assert len(reaction) == 15 and set(reaction["id"]) == set(reaction["msg_id"]) == {"id", "remote", "from_me", "serialized"}
    assert reaction["msg_id"]["serialized"] == reaction["message_id"] and reaction["unique_id"] == reaction["msg_id"]["id"]
    ticket = records_of(call(server, "/tickets", phone=None, limit=1), "tickets")[0]
    # labels: a list or a comma-separated string (labels_shape="mixed" by default)
    assert len(ticket) == 25 and isinstance(ticket["labels"], (list, str)) and re.fullmatch(r"BKT-\d{3}", ticket["ticket_id"])
    contact = records_of(call(server, "/contacts", phone=None, limit=1), "contacts")[0]
    assert sorted(contact) == ["contact_color", "contact_id", "contact_image", "contact_name", "contact_type",
                               "is_imported", "is_internal", "is_my_contact", "is_wa_contact", "label_ids", "labels",
                               "org_id", "updated_at"]
    chat = records_of(call(server, "/chats", limit=1), "chats")[0]  # the 26-key list item plus labels
    assert len(chat) == 27 and chat["member_add_mode"] in ("false", "true") and "members" not in chat
    note = records_of(call(server, "/note", limit=1), "notes")[0]
    assert len(note) == 20 and note["is_private_note"] is True and "id" not in note


def _fraction_digits(timestamp):
    match = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d{1,6}))?\+00:00", timestamp)
    assert match, timestamp
    return len(match.group(1) or "")


def test_odd_shapes_are_present(server):
    messages = server.records("messages")
    stamps = [m[field] for m in messages for field in ("timestamp", "updated_at")]
    stamps += [r[field] for r in server.records("tickets") for field in ("created_at", "last_updated_at")]
    assert {_fraction_digits(s) for s in stamps} == {0, 1, 2, 3, 4, 5, 6}
    assert any(m["links"] == "[]" for m in messages)
    acks = {m["ack"] for m in messages}
    assert acks >= {"2", "3", "4"} and all(isinstance(a, str) for a in acks - {None})
    assert any(isinstance(m["media"], str) for m in messages) or any(isinstance(m["delivery_info"], str) for m in messages)
    delivered = next(m["delivery_info"] for m in messages if isinstance(m["delivery_info"], dict))
    assert all(v > 10**12 for v in delivered["delivered"].values())  # epoch milliseconds
    assert all(m["org_phone"].endswith("@c.us") for m in messages)
    assert all(r["ack"] is None or isinstance(r["ack"], int) for r in server.records("reactions"))
    tickets_contacts_chats = server.records("tickets") + server.records("contacts") + server.records("chats")
    assert any(isinstance(r["label_ids"], str) for r in tickets_contacts_chats)
    chats = server.records("chats")
    assert any(isinstance(c["closed_at"], int) for c in chats) and any(c["closed_at"] is None for c in chats)
    assert any(c["latest_message"] for c in chats) and any(c["latest_message"] is None for c in chats)


def test_json_strings_switch():
    with FakePeriskope(json_strings=False, now=PINNED_NOW).start() as srv:
        for stream, fields in (("messages", ("media", "delivery_info")), ("tickets", ("custom_properties", "label_ids")),
                               ("chats", ("label_ids", "custom_properties")), ("contacts", ("label_ids",))):
            assert not any(isinstance(r[f], str) for r in srv.records(stream) for f in fields), stream


def test_phones_overlap_through_shared_group_chats(server):
    first, second = (p["number"] for p in server.phones[:2])
    chats_a = {c["chat_id"]: c for c in server.records("chats", first)}
    chats_b = {c["chat_id"]: c for c in server.records("chats", second)}
    shared = set(chats_a) & set(chats_b)
    assert shared and all(chat_id.endswith("@g.us") for chat_id in shared)
    assert {chats_a[c]["org_phone"] for c in shared} == {"919876543210@c.us"}
    assert {chats_b[c]["org_phone"] for c in shared} == {"918527184400@c.us"}
    for stream, key in (("messages", "message_id"), ("notifications", "notification_id"), ("reactions", "reaction_id")):
        a = {r[key]: r for r in server.records(stream, first)}
        b = {r[key]: r for r in server.records(stream, second)}
        both = set(a) & set(b)
        assert both, stream
        for record_key in both:
            assert a[record_key]["chat_id"] in shared
            assert {k: v for k, v in a[record_key].items() if k != "org_phone"} == \
                   {k: v for k, v in b[record_key].items() if k != "org_phone"}


def test_deterministic_from_seed():
    with FakePeriskope(seed=5, now=PINNED_NOW) as a, FakePeriskope(seed=5, now=PINNED_NOW) as b:
        for stream in ("messages", "tickets", "chats", "contacts", "reactions", "phones"):
            assert a.records(stream) == b.records(stream)
    assert FakePeriskope(seed=6, now=PINNED_NOW).records("messages") != a.records("messages")


# -- updates and additions ----------------------------------------------------------------
def test_message_edit_keeps_its_position(fresh):
    before = records_of(call(fresh, "/chats/messages"), "messages")
    target = next(m for m in before[10:] if m["body"])
    changed = fresh.update_record("messages", target["message_id"], body="edited")
    after = records_of(call(fresh, "/chats/messages"), "messages")
    position = before.index(target)
    assert after[position]["message_id"] == target["message_id"]
    assert after[position]["body"] == "edited" and after[position]["prev_body"] == target["body"]
    assert after[position]["timestamp"] == target["timestamp"]
    assert parse_record_ts(changed["updated_at"]) > parse_record_ts(target["updated_at"])


def test_contact_update_moves_it_to_the_head(fresh):
    last = records_of(call(fresh, "/contacts", phone=None), "contacts")[-1]
    fresh.update_record("contacts", last["contact_id"], contact_name="Renamed")
    head = records_of(call(fresh, "/contacts", phone=None, limit=1), "contacts")[0]
    assert head["contact_id"] == last["contact_id"] and head["contact_name"] == "Renamed"


def test_ticket_update_keeps_created_at_order(fresh):
    before = records_of(call(fresh, "/tickets", phone=None), "tickets")
    fresh.update_record("tickets", "BKT-003", status="closed")
    after = records_of(call(fresh, "/tickets", phone=None), "tickets")
    assert [t["ticket_id"] for t in after] == [t["ticket_id"] for t in before]
    updated = next(t for t in after if t["ticket_id"] == "BKT-003")
    assert updated["status"] == "closed" and updated["last_updated_at"] > max(t["last_updated_at"] for t in before)


def test_chat_update_moves_it_to_the_head(fresh):
    last = records_of(call(fresh, "/chats"), "chats")[-1]
    fresh.update_record("chats", last["chat_id"], phone=fresh.phones[0]["number"], assigned_to="x@example.com")
    assert records_of(call(fresh, "/chats", limit=1), "chats")[0]["chat_id"] == last["chat_id"]


def test_add_records_are_newest(fresh):
    phone = fresh.phones[1]["number"]
    message = fresh.add_record("messages", phone, body="just arrived")
    assert records_of(call(fresh, "/chats/messages", phone=phone, limit=1), "messages")[0] == message
    assert message["org_phone"] == fresh.phones[1]["org_phone"] and message["body"] == "just arrived"
    assert call(fresh, "/chats/messages", phone=phone).json()["count"] == 501
    ticket = fresh.add_record("tickets", subject="New one")
    assert ticket["ticket_id"] == "BKT-081"
    assert records_of(call(fresh, "/tickets", phone=None, limit=1), "tickets")[0]["ticket_id"] == "BKT-081"
    contact = fresh.add_record("contacts", contact_name="Newbie")
    assert records_of(call(fresh, "/contacts", phone=None, limit=1), "contacts")[0] == contact
    reaction = fresh.add_record("reactions", phone, message_id=message["message_id"], reaction="🎉")
    assert reaction in call(fresh, f"/message/{message['message_id']}", phone=phone).json()["reactions"]


def test_backfilled_record_lands_in_time_order(fresh):
    before = records_of(call(fresh, "/chats/messages"), "messages")
    between = (parse_record_ts(before[30]["timestamp"]) + parse_record_ts(before[31]["timestamp"])) // 2
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(between // 1_000_000)) + f".{between % 1_000_000:06d}+00:00"
    added = fresh.add_record("messages", body="late arrival", timestamp=stamp)
    after = records_of(call(fresh, "/chats/messages"), "messages")
    assert after[31] == added and after[:31] == before[:31] and after[32:] == before[31:]
    page = call(fresh, "/chats/messages", offset=30, limit=3).json()
    assert [m["message_id"] for m in page["messages"]] == [m["message_id"] for m in after[30:33]]
    window = records_of(call(fresh, "/chats/messages", start_time=before[31]["timestamp"], end_time=before[30]["timestamp"]), "messages")
    assert window == [before[30], added, before[31]]


# -- scale ------------------------------------------------------------------------------------
def _rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_one_million_messages_are_lazy():
    rss_before = _rss_mb()  # the test process holds whatever earlier tests left: measure the growth
    started = time.perf_counter()
    with FakePeriskope(sizes={"messages": 1_000_000}, now=PINNED_NOW).start() as srv:
        assert time.perf_counter() - started < 10  # lazy: nothing like a million records is built up front
        session = requests.Session()
        headers = {"Authorization": f"Bearer {srv.api_key}", "x-phone": srv.phones[0]["number"]}
        pages = {}
        for offset in (0, 500_000, 999_000):
            response = session.get(f"{srv.base_url}/chats/messages", headers=headers,
                                   params={"offset": offset, "limit": 1000}, timeout=10)
            pages[offset] = response.json()
            assert (pages[offset]["from"], pages[offset]["count"]) == (offset + 1, 1000)
        assert pages[999_000]["to"] == 1_000_000
        assert session.get(f"{srv.base_url}/chats/messages", headers=headers, params={"offset": 1_000_000},
                           timeout=10).json()["count"] == 0
        middle = pages[500_000]["messages"][500]
        assert session.get(f"{srv.base_url}/message/{middle['message_id']}", headers=headers,
                           timeout=10).json()["message_id"] == middle["message_id"]
        stamps = times(pages[500_000]["messages"], "timestamp")
        assert stamps == sorted(stamps, reverse=True)
        window = session.get(f"{srv.base_url}/chats/messages", headers=headers, timeout=10,
                             params={"start_time": middle["timestamp"], "end_time": middle["timestamp"]}).json()
        assert window["messages"] == [middle]
        assert _rss_mb() - rss_before < 100


# -- accounting and hooks -----------------------------------------------------------------
def test_request_counting(fresh):
    first, second = fresh.phones[0], fresh.phones[1]
    call(fresh, "/chats/messages", limit=1)
    call(fresh, "/chats/messages", phone=second["number"], limit=1)
    call(fresh, "/tickets", phone=None)
    call(fresh, "/chats/messages", phone=None)
    assert fresh.request_count() == 4
    assert fresh.request_count("/chats/messages") == 3
    assert fresh.request_count("chats/messages", phone=first["number"]) == 1
    assert fresh.request_count("/v1/chats/messages", phone=second["phone_id"]) == 1
    method, path, query, x_phone, status = fresh.request_log[0]
    assert (method, path, query, x_phone, status) == ("GET", "/chats/messages", {"limit": "1"}, first["number"], 200)
    assert fresh.request_log[-1][4] == 422
    fresh.reset_counts()
    assert fresh.request_count() == 0 and fresh.request_log == []


def test_on_request_hook_can_change_data_mid_sync(fresh):
    calls = []

    def hook(number, path, query):
        calls.append((number, path, query.get("offset")))
        if number == 2:  # a new message arrives between page 1 and page 2
            fresh.add_record("messages", body="mid-sync")

    fresh.on_request = hook
    page1 = records_of(call(fresh, "/chats/messages", offset=0, limit=100), "messages")
    page2 = records_of(call(fresh, "/chats/messages", offset=100, limit=100), "messages")
    fresh.on_request = None
    assert calls == [(1, "/chats/messages", "0"), (2, "/chats/messages", "100")]
    assert page2[0] == page1[-1]  # the insert at the head shifted the offsets by one


def test_rate_limit_headers_on_every_response(server):
    for response in (call(server, "/chats", limit=1), call(server, "/chats", phone=None), call(server, "/nope"),
                     call(server, "/tickets", phone=None, key="bad")):
        for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
            assert response.headers[header].isdigit(), (response.status_code, header)


def test_latency_and_concurrency():
    with FakePeriskope(latency_ms=500, now=PINNED_NOW).start() as srv:
        results = []

        def fetch():
            results.append(call(srv, "/tickets", phone=None, limit=1).status_code)

        started = time.perf_counter()
        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        assert results == [200] * 4
        assert 0.5 <= elapsed < 1.5  # in parallel, each after its 500 ms (one after another would take 2 s)


# -- faults --------------------------------------------------------------------------------
def _check_429_retry_after(response):
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert response.json()["status"] == 429


def _check_429_retry_after_date(response):
    assert response.status_code == 429
    when = email.utils.parsedate_to_datetime(response.headers["Retry-After"]).timestamp()
    assert 0 < when - time.time() <= 3


def _check_429_reset_epoch(response):
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert 0 < int(response.headers["X-RateLimit-Reset"]) - time.time() <= 3


def _check_429_reset_seconds(response):
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert response.headers["X-RateLimit-Reset"] == "1" and response.headers["X-RateLimit-Remaining"] == "0"


def _check_429_bare(response):
    assert response.status_code == 429
    assert not any(h.lower().startswith(("retry-after", "x-ratelimit")) for h in response.headers)


def _check_json_error(status):
    def check(response):
        assert response.status_code == status and response.json()["status"] == status
    return check


def _check_html_error(status):
    def check(response):
        assert response.status_code == status and response.headers["Content-Type"].startswith("text/html")
    return check


def _check_malformed(response):
    assert response.status_code == 200
    with pytest.raises(ValueError):
        orjson.loads(response.content)


def _check_html(response):
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert b"<html" in response.content


def _check_missing_key(response):
    assert response.status_code == 200
    body = response.json()
    assert "messages" not in body and body["from"] == 11


FAULT_CHECKS = {
    "429_retry_after": _check_429_retry_after,
    "429_retry_after_date": _check_429_retry_after_date,
    "429_reset_epoch": _check_429_reset_epoch,
    "429_reset_seconds": _check_429_reset_seconds,
    "429_bare": _check_429_bare,
    "500": _check_json_error(500),
    "502": _check_html_error(502),
    "503": _check_json_error(503),
    "504": _check_html_error(504),
    "malformed_json": _check_malformed,
    "html": _check_html,
    "missing_key": _check_missing_key,
}


@pytest.mark.parametrize("kind", sorted(FAULT_CHECKS))
def test_fault_responses(fresh, kind):
    fresh.faults.queue(kind, count=1, path_contains="/chats/messages")
    assert call(fresh, "/tickets", phone=None).status_code == 200  # path filter: not consumed here
    FAULT_CHECKS[kind](call(fresh, "/chats/messages", offset=10, limit=5))
    normal = call(fresh, "/chats/messages", offset=10, limit=5)
    assert normal.status_code == 200 and normal.json()["count"] == 5
    assert fresh.faults.served == {kind: 1}
    assert fresh.stats()["faults_served"] == {kind: 1}


@pytest.mark.parametrize("kind", ["reset", "truncated"])
def test_connection_faults(fresh, kind):
    fresh.faults.queue(kind)
    with pytest.raises(requests.exceptions.RequestException):
        call(fresh, "/chats/messages", limit=50).json()
    assert call(fresh, "/chats/messages", limit=5).status_code == 200
    assert fresh.faults.served[kind] == 1
    assert fresh.request_log[0][4] == (0 if kind == "reset" else 200)


def test_slow_fault(fresh):
    fresh.faults.slow_seconds = 0.4
    fresh.faults.queue("slow")
    started = time.perf_counter()
    assert call(fresh, "/chats/messages", limit=5).status_code == 200
    assert time.perf_counter() - started >= 0.4
    with pytest.raises(requests.exceptions.Timeout):
        fresh.faults.queue("slow")
        requests.get(fresh.base_url + "/tickets", headers={"Authorization": "Bearer test-api-key"}, timeout=0.1)


def test_ignore_offset_fault(fresh):
    first_page = call(fresh, "/chats/messages", limit=5).json()
    fresh.faults.queue("ignore_offset")
    assert call(fresh, "/phones/all", phone=None).status_code == 200  # not a paginated list: not consumed
    assert call(fresh, "/chats/messages", offset=10, limit=5).json() == first_page
    assert call(fresh, "/chats/messages", offset=10, limit=5).json()["from"] == 11


def test_random_faults_at_a_rate_are_seeded():
    def statuses(seed):
        faults = FaultSettings(rate=0.5, kinds=["500", "503"], seed=seed)
        with FakePeriskope(faults=faults, now=PINNED_NOW).start() as srv:
            return [call(srv, "/tickets", phone=None, limit=1).status_code for _ in range(20)]

    first = statuses(3)
    assert first == statuses(3)
    assert {200, 500, 503} >= set(first) and 200 in first and set(first) - {200}


def test_every_fault_kind_is_covered():
    assert set(FAULT_CHECKS) | {"reset", "truncated", "slow", "ignore_offset"} == set(ALL_KINDS)


# -- admin API and CLI ---------------------------------------------------------------------
def test_admin_api(fresh):
    admin = fresh.base_url.replace("/v1", "/_admin")
    call(fresh, "/tickets", phone=None)
    assert requests.get(f"{admin}/stats", timeout=10).json()["by_path"] == {"/tickets": 1}
    settings = requests.post(f"{admin}/faults", json={"queue": [{"kind": "503", "count": 2}]}, timeout=10).json()
    assert settings["pending"] == [["503", 2, None]]
    assert [call(fresh, "/tickets", phone=None).status_code for _ in range(3)] == [503, 503, 200]
    added = requests.post(f"{admin}/records/tickets", json={"subject": "via admin"}, timeout=10)
    assert added.status_code == 201 and added.json()["subject"] == "via admin"
    message_id = fresh.records("messages", fresh.phones[0]["number"])[7]["message_id"]
    patched = requests.patch(f"{admin}/records/messages/{message_id}", json={"body": "patched", "phone": fresh.phones[0]["number"]},
                             timeout=10)
    assert patched.status_code == 200 and patched.json()["body"] == "patched"
    dump = requests.get(f"{admin}/records/messages", params={"phone": fresh.phones[0]["number"]}, timeout=10).json()
    assert dump[7]["body"] == "patched" and len(dump) == 500
    assert requests.post(f"{admin}/settings", json={"notifications_key": "notifictions"}, timeout=10).ok
    assert "notifictions" in call(fresh, "/chats/notifications", limit=1).json()
    assert requests.get(f"{admin}/nothing", timeout=10).status_code == 404
    assert requests.post(f"{admin}/faults", json={"kinds": ["bogus"]}, timeout=10).status_code == 400


def test_cli_serves_until_sigterm():
    command = [sys.executable, "-m", "integration_tests.fake_periskope", "--port", "0", "--messages", "2000",
               "--size", "tickets=12", "--fault", "500:1:/tickets"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("FAKE_PERISKOPE_URL=http://127.0.0.1:") and line.endswith("/v1")
        url = line.split("=", 1)[1]
        headers = {"Authorization": "Bearer test-api-key", "x-phone": "919876543210"}
        assert requests.get(f"{url}/tickets", headers=headers, timeout=10).status_code == 500
        assert requests.get(f"{url}/tickets", headers=headers, timeout=10).json()["count"] == 12
        assert requests.get(f"{url}/chats/messages", headers=headers, params={"offset": 1999}, timeout=10).json()["count"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_cli_refuses_non_loopback_hosts():
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):
        result = subprocess.run([sys.executable, "-m", "integration_tests.fake_periskope", "--host", host],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
                                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        assert result.returncode == 2 and "non-loopback" in result.stderr
    with pytest.raises(ValueError):
        FakePeriskope(host="0.0.0.0")
