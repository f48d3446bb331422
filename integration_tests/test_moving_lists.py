"""Lists that move while they are read: records leave, enter or tie across a page, and none is skipped.

Each test makes the fake server change a list between two pages of one read (`at_request`), runs the real
`source-periskope read` with small pages, and checks that every record that was in the list before the read and is
still there afterwards was emitted. With plain offset paging each of these lost the record at a page boundary.
"""

from datetime import datetime, timedelta, timezone

import pytest

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.fake_periskope.timefmt import parse_record_ts
from integration_tests.support.connector import configured_catalog, run
from unit_tests.stream_table import STREAMS

PAGE_SIZE = 10
KEY = {name: facts.primary_key[0] for name, facts in STREAMS.items()}
LATER = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@pytest.fixture
def fake():
    with FakePeriskope(seed=7).start() as server:
        yield server


def one_number_config(server, **overrides):
    number = next(phone["number"] for phone in server.phones if phone["wa_state"] == "CONNECTED")
    return {"api_key": server.api_key, "phone_number": number, "base_url": server.base_url, "page_size": PAGE_SIZE,
            "fetch_ticket_closed_by": False, "window_days": 3650, **overrides}


def read(server, config, stream, sync_mode=None, state=None):
    """A read of one stream. Phone-scoped streams are read incrementally from a state older than their history,
    with lookback: no probe precedes the windows, so the fake's 2nd request of the path is the window's 2nd page."""
    if sync_mode is None and STREAMS[stream].phone_scoped:
        state = _state_before_everything(server, stream, config["phone_number"])
        sync_mode, config = "incremental", {**config, "lookback_days": 1}
    discovered = run("discover", config)
    catalog = configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], sync_mode or "full_refresh", streams=[stream])
    result = run("read", config, catalog=catalog, state=state)
    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    return result


def keys(records, stream):
    return {record[KEY[stream]] for record in records}


def assert_nothing_skipped(server, stream, number, result, before, moved=()):
    """Every record listed before the read and after it was emitted; a record `moved` out of the read's range
    while it was read is not required (its new version is the next sync's)."""
    after = keys(server.records(stream, number) if number else server.records(stream), stream)
    must = (before & after) - set(moved)
    emitted = keys(result.records(stream), stream)
    missed = must - emitted
    assert not missed, f"{len(missed)} of {len(must)} {stream} skipped: {sorted(missed)[:5]}"


@pytest.mark.parametrize("stream", ["chats", "messages"])
def test_a_record_that_leaves_the_window_while_it_is_paged_skips_nothing(fake, stream):
    """A chat on page 1 gets a new message (its updated_at moves past the window's end) while page 2 is read; a
    message of page 1 is edited to a time past the window likewise. Every later record moves up one place."""
    config = one_number_config(fake)
    number = config["phone_number"]
    listed = fake.records(stream, number)
    assert len(listed) > 3 * PAGE_SIZE
    newest = listed[0][KEY[stream]]
    field = STREAMS[stream].cursor
    fake.at_request(2, lambda: fake.update_record(stream, newest, number, **{field: LATER}), path_contains=STREAMS[stream].path)
    before = keys(listed, stream)

    result = read(fake, config, stream)

    assert_nothing_skipped(fake, stream, number, result, before, moved=[newest])


@pytest.mark.parametrize("stream", ["tickets", "contacts", "messages"])
def test_a_record_hard_deleted_above_the_reader_skips_nothing(fake, stream):
    config = one_number_config(fake)
    number = config["phone_number"] if STREAMS[stream].phone_scoped else None
    listed = fake.records(stream, number) if number else fake.records(stream)
    assert len(listed) > 3 * PAGE_SIZE
    first = listed[0][KEY[stream]]
    fake.at_request(2, lambda: fake.hard_delete(stream, first, number), path_contains=STREAMS[stream].path)
    before = keys(listed, stream)

    result = read(fake, config, stream)

    assert_nothing_skipped(fake, stream, number, result, before)


def test_tickets_soft_deleted_and_left_out_of_the_list_while_it_is_paged_skip_nothing(fake):
    """An API that filters soft-deleted rows out of its lists: three tickets of page 1 leave it during the read."""
    fake.hide_soft_deleted = True
    config = one_number_config(fake)
    listed = [ticket for ticket in fake.records("tickets") if ticket.get("is_deleted") is not True]
    doomed = [ticket["ticket_id"] for ticket in listed[:3]]
    fake.at_request(2, lambda: [fake.soft_delete("tickets", key) for key in doomed], path_contains="/tickets")

    result = read(fake, config, "tickets")

    assert_nothing_skipped(fake, "tickets", None, result, keys(listed, "tickets") - set(doomed))


def test_more_records_left_than_the_overlap_holds_makes_the_reader_step_back(fake):
    config = one_number_config(fake)
    listed = fake.records("contacts")
    doomed = [contact["contact_id"] for contact in listed[:25]]  # more than a page and the overlap
    fake.at_request(3, lambda: [fake.hard_delete("contacts", key) for key in doomed], path_contains="/contacts")

    result = read(fake, config, "contacts")

    assert_nothing_skipped(fake, "contacts", None, result, keys(listed, "contacts"))


def test_a_broadcast_larger_than_a_page_in_one_second_with_an_unstable_order_is_read_whole(fake):
    """35 messages share one second (more than three pages); each request lists them in another order."""
    config = one_number_config(fake)
    number = config["phone_number"]
    second = (datetime.now(timezone.utc) - timedelta(days=2)).replace(microsecond=0)
    for n in range(35):
        stamp = (second + timedelta(microseconds=n * 1000)).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        fake.add_record("messages", number, timestamp=stamp)
    fake.unstable_ties = True

    result = read(fake, config, "messages")

    assert_nothing_skipped(fake, "messages", number, result, keys(fake.records("messages", number), "messages"))


def test_a_full_refresh_reads_records_dated_before_2009_and_in_the_future(fake):
    config = one_number_config(fake)
    number = config["phone_number"]
    old = fake.add_record("notes", number, timestamp="2005-03-01T10:00:00+00:00")
    future = fake.add_record("notes", number, timestamp=(datetime.now(timezone.utc) + timedelta(days=40)).isoformat())

    result = read(fake, config, "notes", "full_refresh")

    assert {old["message_id"], future["message_id"]} <= keys(result.records("notes"), "notes")


def _state_before_everything(server, stream, number):
    """A saved state just before the number's oldest record: with lookback, its history is one window (window_days
    3650), read without a probe first."""
    oldest = min(parse_record_ts(record[STREAMS[stream].cursor]) for record in server.records(stream, number))
    moment = datetime.fromtimestamp(oldest / 1e6, tz=timezone.utc) - timedelta(days=2)
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": {
        "states": [{"partition": {"phone": number}, "cursor": {STREAMS[stream].cursor: moment.strftime("%Y-%m-%dT%H:%M:%SZ")}}]}}}]
