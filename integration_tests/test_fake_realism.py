"""Situations a real organisation meets, as the fake Periskope server produces them.

Each test is an example of one situation, checked from the client's side of
HTTP. Run: .venv/bin/python -m pytest integration_tests/test_fake_realism.py -q
"""

import email.utils
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

import orjson
import pytest
import requests

from integration_tests.fake_periskope import DEFAULT_SIZES, ORGANISATION_SIZES, FakePeriskope
from integration_tests.fake_periskope.timefmt import format_ts, parse_record_ts
from integration_tests.support.paths import PROJECT_ROOT

PINNED_NOW = "2025-06-01T12:00:00Z"
NOW_US = parse_record_ts(PINNED_NOW)
DAY_US = 86_400_000_000
PHONE_LISTS = {  # stream -> (list path, records key, time field)
    "messages": ("/chats/messages", "messages", "timestamp"),
    "notifications": ("/chats/notifications", "messages", "timestamp"),
    "notes": ("/note", "notes", "timestamp"),
    "reactions": ("/reactions", "reactions", "timestamp"),
    "chats": ("/chats", "chats", "updated_at"),
}


# -- helpers ----------------------------------------------------------------------------
def get(server, path, phone=None, key=None, **params):
    """A GET as a client sends it (x-phone only when given)."""
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    if phone:
        headers["x-phone"] = phone
    return requests.get(server.base_url + path, headers=headers, params=params, timeout=10)


def page(server, path, key, phone=None, **params):
    response = get(server, path, phone, **params)
    assert response.status_code == 200, response.text
    return json.loads(response.content)[key]  # Python's json: it accepts lone-surrogate escapes


def read_all(server, path, key, phone=None, limit=1000):
    """Every page of a list, the way a connector pages (offset += limit until a short page)."""
    records, offset = [], 0
    while True:
        batch = page(server, path, key, phone, offset=offset, limit=limit)
        records += batch
        if len(batch) < limit:
            return records
        offset += limit


def has_lone_surrogate(text):
    return isinstance(text, str) and any("\ud800" <= ch <= "\udfff" for ch in text)


def ts(record, field="timestamp"):
    return parse_record_ts(record[field])


@pytest.fixture
def fake():
    with FakePeriskope(seed=7, now=PINNED_NOW).start() as running:
        yield running


@pytest.fixture
def phone(fake):
    return fake.phones[0]["number"]


# -- 1. a realistic size ------------------------------------------------------------------
def test_organisation_sizes_are_several_pages_and_served_fast():
    assert DEFAULT_SIZES["tickets"] == 80 and DEFAULT_SIZES["contacts"] == 150  # the default stays small
    with FakePeriskope(sizes=ORGANISATION_SIZES, now=PINNED_NOW).start() as server:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {server.api_key}"
        durations, contact_pages = [], []
        for offset in range(0, 4000, 1000):
            started = time.perf_counter()
            response = session.get(f"{server.base_url}/contacts", params={"offset": offset, "limit": 1000}, timeout=10)
            durations.append(time.perf_counter() - started)
            contact_pages.append(json.loads(response.content)["contacts"])
        assert [len(p) for p in contact_pages] == [1000, 1000, 1000, 300]
        assert len({c["contact_id"] for p in contact_pages for c in p}) == ORGANISATION_SIZES["contacts"]
        assert statistics.median(durations) < 0.1, durations
        tickets = read_all(server, "/tickets", "tickets")
        assert len(tickets) == ORGANISATION_SIZES["tickets"] == 2600


# -- 2. late arrivals ---------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["messages", "notifications", "notes", "reactions"])
def test_late_arrivals_take_their_place_by_their_past_timestamp(fake, phone, stream):
    path, key, _field = PHONE_LISTS[stream]
    synced = page(fake, path, key, phone, limit=1000)
    cursor = ts(synced[0])  # an incremental client remembers the newest timestamp it saw

    late = fake.deliver_late(stream, phone, count=3, newest_age_seconds=2 * 86_400, spacing_seconds=600)

    assert [ts(r) for r in late] == sorted((ts(r) for r in late), reverse=True)
    assert all(ts(r) < cursor for r in late)  # behind the cursor: an incremental read will not see them
    after = page(fake, path, key, phone, limit=1000)
    assert len(after) == len(synced) + 3
    assert [ts(r) for r in after] == sorted((ts(r) for r in after), reverse=True)  # still newest first
    assert after[0] == synced[0]
    assert not page(fake, path, key, phone, start_time=format_ts(cursor + 1))  # nothing new for a cursor read
    window = page(fake, path, key, phone, start_time=late[-1]["timestamp"], end_time=late[0]["timestamp"])
    assert all(r in window for r in late)  # a lookback window finds them
    if stream in ("messages", "notes"):
        assert all(ts(r, "updated_at") > cursor for r in late)  # written just now
    if stream == "reactions":
        for reaction in late:
            message = get(fake, f"/message/{reaction['message_id']}", phone).json()
            assert ts(message) < ts(reaction) and reaction in message["reactions"]


# -- 3. records updated while a sync reads --------------------------------------------------
def test_an_old_ticket_updated_mid_sync_stays_on_its_page(fake):
    numbers_seen = []
    fake.on_request = lambda number, path, query: numbers_seen.append(number)  # the older hook still works
    change = fake.at_request(3, lambda: fake.update_record("tickets", "BKT-005", status="closed"))

    pages = [page(fake, "/tickets", "tickets", offset=offset, limit=20) for offset in (0, 20, 40, 60)]

    assert change.fired and change.fired_at == 3 and numbers_seen == [1, 2, 3, 4]
    tickets = [t for p in pages for t in p]
    assert len({t["ticket_id"] for t in tickets}) == 80  # none skipped, none twice: created_at order is stable
    updated = next(t for t in pages[3] if t["ticket_id"] == "BKT-005")  # the last page, where it always was
    assert updated["status"] == "closed"
    assert updated["last_updated_at"] == max((t["last_updated_at"] for t in tickets), key=parse_record_ts)


def test_a_contact_updated_mid_sync_jumps_to_page_one_and_is_missed(fake):
    before = page(fake, "/contacts", "contacts", limit=150)
    moved = before[120]  # on page 3 of 50
    fake.at_request(2, lambda: fake.update_record("contacts", moved["contact_id"], contact_name="Renamed"))

    pages = [page(fake, "/contacts", "contacts", offset=offset, limit=50) for offset in (0, 50, 100)]

    seen = [c["contact_id"] for p in pages for c in p]
    assert moved["contact_id"] not in seen  # it moved to page one, which the client had already read
    assert len(seen) == 150 and len(set(seen)) == 149  # ... and the shift repeats one contact
    assert page(fake, "/contacts", "contacts", limit=1)[0]["contact_name"] == "Renamed"


# -- 4. soft and hard deletions -----------------------------------------------------------------
def test_a_soft_deleted_ticket_stays_listed(fake):
    before = page(fake, "/tickets", "tickets")
    deleted = fake.soft_delete("tickets", "BKT-010")
    after = page(fake, "/tickets", "tickets")
    assert [t["ticket_id"] for t in after] == [t["ticket_id"] for t in before]
    assert deleted["is_deleted"] is True and deleted in after
    assert ts(deleted, "last_updated_at") > max(ts(t, "last_updated_at") for t in before)
    assert get(fake, "/tickets/BKT-010").json()["ticket"]["is_deleted"] is True


@pytest.mark.parametrize("stream", ["messages", "notes"])
def test_a_soft_deleted_message_keeps_its_timestamp_so_only_a_lookback_sees_it(fake, phone, stream):
    path, key, _field = PHONE_LISTS[stream]
    before = page(fake, path, key, phone)
    target = next(r for r in before[30:] if not r["is_deleted"])
    cursor = before[0]["timestamp"]

    deleted = fake.soft_delete(stream, target["message_id"], phone)

    after = page(fake, path, key, phone)
    assert after.index(deleted) == before.index(target)
    assert deleted["is_deleted"] is True and deleted["timestamp"] == target["timestamp"]
    assert ts(deleted, "updated_at") > ts(target, "updated_at")
    assert deleted not in page(fake, path, key, phone, start_time=cursor)  # an incremental read misses it
    assert deleted in page(fake, path, key, phone, start_time=target["timestamp"], end_time=cursor)


@pytest.mark.parametrize("stream, list_path, key, by_id", [
    ("messages", "/chats/messages", "messages", "/message/{}"),
    ("notes", "/note", "notes", "/note/{}"),
    ("tickets", "/tickets", "tickets", "/tickets/{}"),
    ("contacts", "/contacts", "contacts", "/contacts/{}"),
])
def test_a_hard_deleted_record_disappears_and_its_id_is_404(fake, phone, stream, list_path, key, by_id):
    before = page(fake, list_path, key, phone)
    record_key = {"messages": "message_id", "notes": "message_id", "tickets": "ticket_id", "contacts": "contact_id"}[stream]
    target = before[5][record_key]
    path_id = target.split("@")[0] if stream == "contacts" else target  # /contacts/{id} takes digits
    assert get(fake, by_id.format(path_id), phone).status_code == 200

    fake.hard_delete(stream, target)

    after = page(fake, list_path, key, phone)
    assert len(after) == len(before) - 1 and target not in [r[record_key] for r in after]
    response = get(fake, by_id.format(path_id), phone)
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


# -- 5. odd but valid text ------------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["messages", "notes"])
def test_every_phone_has_a_lone_surrogate_body_that_orjson_rejects(fake, stream):
    path, key, _field = PHONE_LISTS[stream]
    for phone_info in fake.phones:
        response = get(fake, path, phone_info["number"], limit=100)
        assert response.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(response.content)  # a strict UTF-8 decoder refuses the lone surrogate
        assert re.search(rb'\\ud8[0-3][0-9a-f]"', response.content)  # "...\ud83d" at the end of a string
        records = json.loads(response.content)[key]
        assert any(has_lone_surrogate(r["body"]) for r in records), phone_info["number"]


def test_odd_text_variants_over_a_larger_history():
    sizes = {"phones": 1, "messages": 30_000, "notes": 4_000}
    with FakePeriskope(seed=3, sizes=sizes, now=PINNED_NOW).start() as server:
        number = server.phones[0]["number"]
        bodies = [m["body"] for m in read_all(server, "/chats/messages", "messages", number) if m["body"]]
        bodies += [n["body"] for n in read_all(server, "/note", "notes", number, limit=1000)]
        names = [c["contact_name"] for c in read_all(server, "/contacts", "contacts")]
    found = {
        "cut emoji": any(has_lone_surrogate(b) and "\ud800" <= b[-1] <= "\udbff" for b in bodies),
        "zwj sequence": any("\u200d" in b for b in bodies),
        "right-to-left": any(re.search("[\u0590-\u06ff]", b) for b in bodies),
        "combining marks": any(re.search("[\u0300-\u036f\u0900-\u097f]", b) for b in bodies),
        "line separators": any("\u2028" in b or "\u2029" in b for b in bodies),
        "quotes and backslashes": any('"' in b and "\\" in b for b in bodies),
        "html-like": any("<script>" in b for b in bodies),
        "a very long body": any(len(b) > 20_000 for b in bodies),
        "an odd contact name": any(not n.isascii() for n in names if n),
    }
    assert all(found.values()), found
    lone = sum(has_lone_surrogate(b) for b in bodies)
    assert lone < len(bodies) / 1000  # rare: most pages are plain orjson


def test_odd_text_can_be_switched_off():
    with FakePeriskope(seed=7, now=PINNED_NOW, odd_text=False).start() as server:
        for phone_info in server.phones:
            for path in ("/chats/messages", "/note", "/chats"):
                orjson.loads(get(server, path, phone_info["number"], limit=1000).content)  # no lone surrogates
        orjson.loads(get(server, "/contacts").content)
        assert not any(re.search("[\u0590-\u06ff\u2028\u2029\u200d]", m["body"] or "") for m in server.records("messages"))


# -- 6. both shapes of labels ----------------------------------------------------------------------
def _label_rows(server):
    rows = page(server, "/tickets", "tickets") + page(server, "/contacts", "contacts")
    rows += get(server, "/phones/all").json()
    for phone_info in server.phones:
        rows += page(server, "/chats", "chats", phone_info["number"])
    return rows


def test_labels_come_as_arrays_and_as_comma_separated_strings(fake):
    rows = _label_rows(fake)
    assert all("labels" in row for row in rows)  # chats too
    as_lists = [r["labels"] for r in rows if isinstance(r["labels"], list)]
    as_strings = [r["labels"] for r in rows if isinstance(r["labels"], str)]
    assert as_lists and as_strings and len(as_lists) + len(as_strings) == len(rows)
    assert "" in as_strings  # a row without labels, in the string shape
    names = {name for labels in as_lists for name in labels} | {n for s in as_strings for n in s.split(", ") if s}
    assert {"1", "null", "needs follow up"} <= names  # tricky names: a number, "null", spaces
    assert "1" in as_strings and "null" in as_strings  # whole values a naive parser turns into 1 and null
    for row in rows:  # label_ids keeps its map shape (sometimes JSON-encoded as a string)
        label_ids = json.loads(row["label_ids"]) if isinstance(row["label_ids"], str) else row["label_ids"]
        count = len(row["labels"]) if isinstance(row["labels"], list) else len([n for n in row["labels"].split(", ") if n])
        assert isinstance(label_ids, dict) and len(label_ids) == count


@pytest.mark.parametrize("shape, kind", [("array", list), ("string", str)])
def test_labels_shape_switch(shape, kind):
    with FakePeriskope(seed=7, now=PINNED_NOW, labels_shape=shape).start() as server:
        assert all(isinstance(row["labels"], kind) for row in _label_rows(server))


# -- 7. a quiet phone ------------------------------------------------------------------------------
def test_a_quiet_phone_has_only_old_history():
    with FakePeriskope(seed=7, now=PINNED_NOW, quiet_phones=1).start() as server:
        busy, quiet = (p["number"] for p in server.phones)
        for stream, (path, key, field) in PHONE_LISTS.items():
            history = page(server, path, key, quiet)
            assert history, stream  # it has history ...
            assert ts(history[0], field) <= NOW_US - 120 * DAY_US, stream  # ... all of it older than 120 days
            assert not page(server, path, key, quiet, start_time=format_ts(NOW_US - 90 * DAY_US)), stream
            assert ts(page(server, path, key, busy, limit=1)[0], field) > NOW_US - 2 * DAY_US, stream


# -- 8. a phone goes offline and delivers its backlog late ---------------------------------------------
def test_an_offline_phone_holds_its_backlog_until_it_reconnects(fake):
    phone_info = fake.phones[1]
    number = phone_info["number"]
    history = page(fake, "/chats/messages", "messages", number, limit=1000)
    def phone_state():
        return next(p for p in get(fake, "/phones/all").json() if p["phone_id"] == phone_info["phone_id"])

    state_before = phone_state()

    fake.disconnect(number, started_seconds_ago=6 * 3600)
    held = fake.outage_traffic(number, 5) + [fake.add_record("messages", number, body="sent while offline")]
    held += fake.deliver_late("notes", number, count=2, newest_age_seconds=3600)

    state = phone_state()
    assert state["wa_state"] == "DISCONNECTED" and ts(state, "updated_at") > ts(state_before, "updated_at")
    assert page(fake, "/chats/messages", "messages", number, limit=1000) == history  # it still answers, with its history
    assert get(fake, f"/message/{held[0]['message_id']}", number).status_code == 404
    assert get(fake, f"/note/{held[-1]['message_id']}", number).status_code == 404
    outage_start = NOW_US - 6 * 3600 * 1_000_000
    assert all(outage_start < ts(m) < NOW_US + 60_000_000 for m in held[:5])  # spread over the outage

    released = fake.reconnect(number)

    assert {r.get("message_id") for r in released} == {r["message_id"] for r in held}
    assert phone_state()["wa_state"] == "CONNECTED"
    messages = page(fake, "/chats/messages", "messages", number, limit=1000)
    assert all(m in messages for m in held[:6]) and len(messages) == len(history) + 6
    assert [ts(m) for m in messages] == sorted((ts(m) for m in messages), reverse=True)
    assert get(fake, f"/message/{held[0]['message_id']}", number).json()["timestamp"] == held[0]["timestamp"]
    assert get(fake, f"/note/{held[-1]['message_id']}", number).status_code == 200


# -- 9. a request quota ------------------------------------------------------------------------------
def test_quota_counts_requests_per_key_in_a_fixed_window():
    with FakePeriskope(seed=7, now=PINNED_NOW, quota_per_minute=3).start() as server:
        clock = [1_000_000.0]
        server.quota.clock = lambda: clock[0]  # a controllable clock, to move past the window
        answers = [get(server, "/tickets", limit=1) for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
        assert {r.headers["X-RateLimit-Limit"] for r in answers} == {"3"}
        assert {r.headers["X-RateLimit-Reset"] for r in answers} == {"60"}  # seconds until the window ends

        clock[0] += 20
        refused = [get(server, "/tickets", limit=1) for _ in range(2)]
        assert [r.status_code for r in refused] == [429, 429]
        assert refused[0].json() == {"code": "RATE_LIMITED", "message": "Too many requests",
                                     "name": "Too Many Requests", "status": 429}
        assert refused[0].headers["X-RateLimit-Remaining"] == "0" and refused[0].headers["X-RateLimit-Reset"] == "40"
        assert "Retry-After" not in refused[0].headers  # quota_retry_after is off by default
        assert server.quota_429_count() == 2 and server.stats()["quota_429s"] == 2
        assert get(server, "/tickets", key="other-org-key").status_code == 200  # another key, another window

        clock[0] += 40  # the window ends: the whole limit is back (the 429s did not count)
        again = get(server, "/tickets", limit=1)
        assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "2"


@pytest.mark.parametrize("reset_format", ["epoch", "epoch_down", "epoch_ms"])
def test_quota_reset_formats_and_retry_after(reset_format):
    with FakePeriskope(seed=7, now=PINNED_NOW, quota_per_minute=1, quota_reset_format=reset_format,
                       quota_retry_after=True).start() as server:
        server.quota.clock = lambda: 1_700_000_000.25
        assert get(server, "/tickets").status_code == 200
        refused = get(server, "/chats", server.phones[0]["number"])
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        expected = {"epoch": "1700000061", "epoch_down": "1700000060", "epoch_ms": "1700000060250"}[reset_format]
        assert refused.headers["X-RateLimit-Reset"] == expected


def test_quota_as_a_token_bucket_refills_steadily():
    with FakePeriskope(seed=7, now=PINNED_NOW, quota_per_minute=6, quota_model="token_bucket",
                       quota_reset_format="epoch_ms", quota_retry_after=True).start() as server:
        clock = [1_000_000.0]
        server.quota.clock = lambda: clock[0]
        answers = [get(server, "/tickets", limit=1) for _ in range(7)]
        assert [r.status_code for r in answers] == [200] * 6 + [429]  # a full bucket: the whole limit at once
        assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["5", "4", "3", "2", "1", "0", "0"]
        assert answers[-1].headers["X-RateLimit-Reset"] == str(1_000_060_000)  # full again in 60 s
        assert answers[-1].headers["Retry-After"] == "10"  # the next token
        clock[0] += 25  # two and a half tokens back
        again = [get(server, "/tickets", limit=1) for _ in range(3)]
        assert [r.status_code for r in again] == [200, 200, 429]
        assert again[0].headers["X-RateLimit-Remaining"] == "1"


def test_an_injected_429_can_report_quota_left():
    with FakePeriskope(seed=7, now=PINNED_NOW, quota_per_minute=10).start() as server:
        server.faults.queue("429_quota_left")
        refused = get(server, "/tickets")
        assert refused.status_code == 429 and "Retry-After" not in refused.headers
        assert refused.headers["X-RateLimit-Remaining"] == "10"  # nothing counted: the whole quota is left
        assert get(server, "/tickets").headers["X-RateLimit-Remaining"] == "9"


def test_quota_headers_are_on_every_api_answer_and_injected_429s_do_not_count():
    with FakePeriskope(seed=7, now=PINNED_NOW, quota_per_minute=4).start() as server:
        server.faults.queue("429_retry_after")
        assert get(server, "/tickets").status_code == 429  # an injected 429: not counted
        answers = [get(server, "/tickets"), get(server, "/nope"), get(server, "/tickets", key="wrong")]
        assert [r.status_code for r in answers] == [200, 404, 401]
        assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["3", "2", "3"]  # "wrong" has its own window
    with FakePeriskope(seed=7, now=PINNED_NOW).start() as server:  # no quota: the informational headers
        response = get(server, "/tickets")
        assert response.headers["X-RateLimit-Limit"] == "6000" and server.stats()["quota"]["per_minute"] is None


def test_quota_and_data_switches_through_the_admin_api(fake):
    admin = fake.base_url.replace("/v1", "/_admin")
    settings = {"quota_per_minute": 1, "quota_reset_format": "epoch", "quota_retry_after": True,
                "quota_model": "fixed_window", "odd_text": False, "labels_shape": "string"}
    assert requests.post(f"{admin}/settings", json=settings, timeout=10).json() == {
        **settings, "notifications_key": "messages", "count_is_total": False, "omit_count": False,
        "strict_limit": False, "latency_ms": 0, "rate_limit_per_minute": 6000, "unstable_ties": False,
        "hide_soft_deleted": False, "unpaired_phones": 0, "unreadable_phones": 0,
        "clock_behind_seconds": 0.0, "quota_model": "fixed_window"}
    assert get(fake, "/tickets").status_code == 200
    refused = get(fake, "/tickets")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert requests.post(f"{admin}/settings", json={"quota_per_minute": None}, timeout=10).ok
    tickets = page(fake, "/tickets", "tickets")
    assert all(isinstance(t["labels"], str) for t in tickets)
    orjson.loads(get(fake, "/chats/messages", fake.phones[0]["number"]).content)  # odd text is off
    assert requests.post(f"{admin}/settings", json={"quota_reset_format": "hours"}, timeout=10).status_code == 400
    # without a quota the headers announce an unenforced limit, which can be raised out of a pace's reach
    assert requests.post(f"{admin}/settings", json={"rate_limit_per_minute": 10**9}, timeout=10).ok
    assert get(fake, "/tickets").headers["X-RateLimit-Limit"] == str(10**9)
    assert requests.post(f"{admin}/settings", json={"rate_limit_per_minute": 0}, timeout=10).status_code == 400


def test_a_server_clock_behind_dates_changes_and_the_date_header_by_itself():
    """clock_behind_seconds: the server's clock, as its Date header tells it, runs behind, and so do the times of
    records changed from then on; setting it back to 0 puts it on time again. (Not pinned: the clock is real time.)"""
    with FakePeriskope(seed=7).start() as fake:
        _check_the_clock_switch(fake)


def _check_the_clock_switch(fake):
    admin = fake.base_url.replace("/v1", "/_admin")

    def server_lag():
        said = email.utils.parsedate_to_datetime(get(fake, "/tickets").headers["Date"]).timestamp()
        return time.time() - said

    assert -1 <= server_lag() <= 2
    assert requests.post(f"{admin}/settings", json={"clock_behind_seconds": 600}, timeout=10).json()["clock_behind_seconds"] == 600
    assert 599 <= server_lag() <= 602
    ticket = page(fake, "/tickets", "tickets")[0]
    changed = fake.update_record("tickets", ticket["ticket_id"], subject="changed")
    assert 599 <= time.time() - parse_record_ts(changed["last_updated_at"]) / 1e6 <= 602
    assert requests.post(f"{admin}/settings", json={"clock_behind_seconds": -1}, timeout=10).status_code == 400
    assert requests.post(f"{admin}/settings", json={"clock_behind_seconds": 0}, timeout=10).ok
    assert -1 <= server_lag() <= 2


# -- 10. by-id endpoints as the contract shows them ----------------------------------------------------
def test_ticket_info_names_who_closed_a_ticket(fake):
    tickets = page(fake, "/tickets", "tickets")
    closed = next(t for t in tickets if t["status"] == "closed")
    open_ticket = next(t for t in tickets if t["status"] == "open")
    info = get(fake, f"/tickets/{closed['ticket_id']}").json()
    assert set(info) == {"attached_messages", "chat", "message", "ticket"}
    assert re.fullmatch(r"[a-z]+@[a-z.-]+", info["ticket"]["closed_by"])
    assert isinstance(info["ticket"]["ticket_labels"], str) and "label-" not in info["chat"]["chat_labels"]  # names
    assert get(fake, f"/tickets/{open_ticket['ticket_id']}").json()["ticket"]["closed_by"] is None
    fake.update_record("tickets", open_ticket["ticket_id"], status="closed")  # closing it records who did
    assert re.fullmatch(r"[a-z]+@[a-z.-]+", get(fake, f"/tickets/{open_ticket['ticket_id']}").json()["ticket"]["closed_by"])


def test_a_message_by_id_carries_its_reactions(fake, phone):
    reactions = read_all(fake, "/reactions", "reactions", phone, limit=500)
    reacted_ids = {r["message_id"] for r in reactions if not r["orphan"]}
    flags = []
    for message_id in sorted(reacted_ids):
        message = get(fake, f"/message/{message_id}", phone).json()
        assert message["reactions"] and all(r["message_id"] == message_id for r in message["reactions"])
        flags.append(message["has_reaction"])
    assert True in flags and set(flags) <= {True, None}  # never false when reactions exist; null is allowed
    listed = {m["message_id"]: m for m in page(fake, "/chats/messages", "messages", phone)}
    for message_id in sorted(reacted_ids & set(listed))[:5]:
        with_reactions = get(fake, f"/message/{message_id}", phone).json()
        assert {k: v for k, v in with_reactions.items() if k != "reactions"} == listed[message_id]


def test_a_contact_by_id_takes_digits_and_lists_its_chats(fake):
    phone_chat_ids = {c["chat_id"] for p in fake.phones for c in page(fake, "/chats", "chats", p["number"])}
    contact = next(c for c in page(fake, "/contacts", "contacts") if c["contact_id"] in phone_chat_ids)
    digits = contact["contact_id"].split("@")[0]
    detail = get(fake, f"/contacts/{digits}").json()
    assert detail == {**contact, "chat_ids": detail["chat_ids"]}
    assert contact["contact_id"] in detail["chat_ids"] and set(detail["chat_ids"]) <= phone_chat_ids
    assert get(fake, f"/contacts/{contact['contact_id']}").status_code == 404  # not the @c.us form


# -- the CLI ------------------------------------------------------------------------------------------
def test_cli_flags_for_the_new_situations():
    command = [sys.executable, "-m", "integration_tests.fake_periskope", "--port", "0", "--now", PINNED_NOW,
               "--no-odd-text", "--labels-shape", "string", "--quiet-phones", "1", "--quota-per-minute", "2",
               "--quota-reset-format", "epoch_ms", "--quota-retry-after"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    try:
        url = process.stdout.readline().strip().split("=", 1)[1]
        headers = {"Authorization": "Bearer test-api-key", "x-phone": "918527184400"}  # the quiet phone
        messages = requests.get(f"{url}/chats/messages", headers=headers, timeout=10)
        orjson.loads(messages.content)  # no odd text
        assert parse_record_ts(messages.json()["messages"][0]["timestamp"]) <= NOW_US - 120 * DAY_US
        assert isinstance(requests.get(f"{url}/tickets", headers=headers, timeout=10).json()["tickets"][0]["labels"], str)
        refused = requests.get(f"{url}/tickets", headers=headers, timeout=10)
        assert refused.status_code == 429 and refused.headers["Retry-After"].isdigit()
        assert int(refused.headers["X-RateLimit-Reset"]) > time.time() * 1000
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
