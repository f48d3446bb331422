"""The fake Periskope server's API contract: auth, x-phone, routes, 404s, the
endpoints and their envelopes, and X-RateLimit-* headers on every response.

Run: .venv/bin/python -m pytest integration_tests/test_fake_api_contract.py -q
"""

import re

import pytest
import requests

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.fake_server_fixtures import PINNED_NOW, call, fresh, records_of, server  # noqa: F401  (fixtures)

MISSING_PHONE_BODY = {
    "code": "VALIDATION_ERROR",
    "fields": {"x-phone": {"message": "Please provide the number of the phone ..."}},
    "message": "Missing Header: {x-phone}",
    "name": "Validation Error",
    "status": 422,
}
UNAUTHORIZED_BODY = {"code": "UNAUTHORIZED", "message": "Invalid API key", "name": "Unauthorized", "status": 401}


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


# -- rate-limit headers ------------------------------------------------------------------
def test_rate_limit_headers_on_every_response(server):
    for response in (call(server, "/chats", limit=1), call(server, "/chats", phone=None), call(server, "/nope"),
                     call(server, "/tickets", phone=None, key="bad")):
        for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
            assert response.headers[header].isdigit(), (response.status_code, header)


def test_phones_listed_that_no_x_phone_can_read(fresh):  # noqa: F811  (fixture)
    """unpaired_phones and unreadable_phones (admin switches): listed by /phones/all, 401 through x-phone."""
    before = len(call(fresh, "/phones/all", phone=None).json())
    response = requests.post(f"{fresh.base_url.rsplit('/v1', 1)[0]}/_admin/settings", json={"unpaired_phones": 1, "unreadable_phones": 1}, timeout=10)
    assert response.status_code == 200 and response.json()["unreadable_phones"] == 1
    listed = call(fresh, "/phones/all", phone=None).json()
    unpaired, unreadable = listed[before:]

    assert len(listed) == before + 2 and unpaired["org_phone"] is None and unpaired["wa_state"] == "UNPAIRED"
    for x_phone in (unpaired["phone_id"], unreadable["phone_id"], unreadable["org_phone"].split("@")[0]):
        assert call(fresh, "/chats", phone=x_phone, limit=1).status_code == 401
    assert [phone["phone_id"] for phone in fresh.phones] == [phone["phone_id"] for phone in listed[:before]]
