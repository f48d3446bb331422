"""The records the fake Periskope server generates: their shapes and odd but valid
values, the JSON-strings switch, phones overlapping through shared group chats,
determinism from the seed, and a million messages generated lazily.

Run: .venv/bin/python -m pytest integration_tests/test_fake_records.py -q
"""

import re
import time
from pathlib import Path

import requests

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.fake_server_fixtures import PINNED_NOW, call, records_of, server, times  # noqa: F401  (fixtures)


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
