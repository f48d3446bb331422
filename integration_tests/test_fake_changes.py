"""Changes to the fake Periskope server's data: updated and added records (and where
they land in the lists), a change made mid-sync from the on_request hook, and the
/_admin API.

Run: .venv/bin/python -m pytest integration_tests/test_fake_changes.py -q
"""

import time

import requests

from integration_tests.fake_periskope.timefmt import parse_record_ts
from integration_tests.fake_server_fixtures import call, fresh, records_of  # noqa: F401  (fixtures)


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


# -- hooks -------------------------------------------------------------------------------
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


# -- admin API --------------------------------------------------------------------------
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
