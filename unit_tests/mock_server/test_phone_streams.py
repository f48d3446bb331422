"""Chats, messages, notifications, notes and reactions: per WhatsApp number (x-phone), in start_time/end_time windows.

Time is frozen at NOW; with start_date 2026-10-01 and 30-day windows the connector reads two closed windows:
[2026-10-01T00:00:00Z, 2026-10-31T00:00:00Z] and [2026-10-31T00:00:00Z, NOW + 1 s] (end_time is sent one second
past each window's last second, so consecutive windows share one second and no fractional timestamp falls between).
"""

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpResponse
from freezegun import freeze_time

from unit_tests.mock_server.config import OTHER_PHONE, PHONE, ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import CURSOR_FIELD, ID_FIELD, a_record, error, example_records, page, records
from unit_tests.mock_server.utils import MockedApi, final_state, read_stream, record_data
from unit_tests.stream_table import PHONE_STREAMS

NOW = "2026-11-15T12:00:00Z"
FIRST_WINDOW = ("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z")
SECOND_WINDOW = ("2026-10-31T00:00:00Z", "2026-11-15T12:00:01Z")


def window_request(stream, window, offset=0, phone=PHONE, limit=100):
    return PeriskopeRequestBuilder.for_stream(stream, phone).with_window(*window).with_page(offset, limit).build()


def empty(stream):
    return page(stream, [])


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(NOW)
def test_incremental_first_sync_reads_closed_windows_from_start_date(stream):
    with MockedApi() as http:
        http.get(window_request(stream, FIRST_WINDOW), page(stream, records(stream, 3, newest="2026-10-20T10:00:00+00:00")))
        http.get(window_request(stream, SECOND_WINDOW), page(stream, records(stream, 2, newest="2026-11-15T11:00:00.25+00:00")))
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().build())

    assert len(output.records) == 5
    (phone_state,) = final_state(output)["states"]
    assert phone_state["partition"] == {"phone": PHONE}
    # The state is the newest record emitted (its fraction dropped: the API filters to the second).
    assert phone_state["cursor"][CURSOR_FIELD[stream]] == "2026-11-15T11:00:00Z"


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(NOW)
def test_every_field_of_the_contract_example_is_emitted_normalised(stream):
    example = example_records(stream)
    cursor = CURSOR_FIELD[stream]
    for record in example:
        record[cursor] = "2026-11-01T08:00:00.5+00:00"
    with MockedApi() as http:
        http.get(window_request(stream, FIRST_WINDOW), empty(stream))
        http.get(window_request(stream, SECOND_WINDOW), page(stream, example))
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().build())

    emitted = record_data(output)
    assert len(emitted) == len(example)
    assert {key for key, value in example[0].items() if value is not None} <= set(emitted[0])
    assert emitted[0][cursor] == "2026-11-01T08:00:00.5+00:00"
    assert emitted[0]["org_phone"] == example[0]["org_phone"]
    if "id" in example[0]:
        assert {"from_me", "id", "remote", "serialized"} <= set(emitted[0]["id"])


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(NOW)
def test_pages_within_a_window_by_time_until_a_short_page(stream):
    """The next page ends at the second of the oldest record read (offset 0): that record comes again, once."""
    first_page = records(stream, 100, newest="2026-11-10T00:00:00+00:00")  # the oldest at 2026-11-09T22:21:00
    older = [dict(r, **{ID_FIELD[stream]: r[ID_FIELD[stream]] + "-b"}) for r in records(stream, 7, newest="2026-11-01T00:00:00+00:00")]
    with MockedApi() as http:
        http.get(window_request(stream, FIRST_WINDOW), empty(stream))
        http.get(window_request(stream, SECOND_WINDOW, offset=0), page(stream, first_page))
        http.get(window_request(stream, (SECOND_WINDOW[0], "2026-11-09T22:21:01Z")), page(stream, first_page[-1:] + older))
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().build())

    assert len(output.records) == 107
    assert len({record[ID_FIELD[stream]] for record in record_data(output)}) == 107


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(NOW)
def test_second_sync_asks_only_for_what_is_new(stream):
    state = {"states": [{"partition": {"phone": PHONE}, "cursor": {CURSOR_FIELD[stream]: "2026-11-15T10:00:00Z"}}]}
    with MockedApi() as http:
        # One second of overlap below the state: an API whose start_time is exclusive still misses nothing.
        http.get(window_request(stream, ("2026-11-15T09:59:59Z", "2026-11-15T12:00:01Z")),
                 page(stream, records(stream, 1, newest="2026-11-15T11:00:00+00:00")))
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().build(), state=state)

    assert len(output.records) == 1


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(NOW)
def test_lookback_rereads_recent_days_to_catch_later_changes(stream):
    """A message edited, deleted or reacted to after it was synced keeps its timestamp: only a lookback re-reads it."""
    state = {"states": [{"partition": {"phone": PHONE}, "cursor": {CURSOR_FIELD[stream]: "2026-11-15T10:00:00Z"}}]}
    changed = a_record(stream, **{CURSOR_FIELD[stream]: "2026-11-10T09:00:00+00:00", "updated_at": "2026-11-15T11:00:00+00:00"})
    with MockedApi() as http:
        http.get(window_request(stream, ("2026-11-08T09:59:59Z", "2026-11-15T12:00:01Z")), page(stream, [changed]))
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().with_lookback_days(7).build(), state=state)

    assert [r[ID_FIELD[stream]] for r in record_data(output)] == [changed[ID_FIELD[stream]]]


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(NOW)
def test_each_number_is_read_with_its_own_x_phone_and_state(stream):
    state = {"states": [{"partition": {"phone": PHONE}, "cursor": {CURSOR_FIELD[stream]: "2026-11-15T10:00:00Z"}}]}
    config = ConfigBuilder().with_phone_number("+91 98765-43210").with_additional_phone_numbers(["+91 85271 84400"]).build()
    with MockedApi() as http:
        http.get(window_request(stream, ("2026-11-15T09:59:59Z", "2026-11-15T12:00:01Z"), phone=PHONE), empty(stream))
        # The added number has no state yet: it is backfilled from start_date.
        http.get(window_request(stream, FIRST_WINDOW, phone=OTHER_PHONE), empty(stream))
        http.get(window_request(stream, SECOND_WINDOW, phone=OTHER_PHONE),
                 page(stream, records(stream, 2, org_phone=f"{OTHER_PHONE}@c.us")))
        output = read_stream(stream, SyncMode.incremental, config, state=state)

    assert {r["org_phone"] for r in record_data(output)} == {f"{OTHER_PHONE}@c.us"}
    phones = {s["partition"]["phone"] for s in final_state(output)["states"]}
    assert phones == {PHONE, OTHER_PHONE}


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(NOW)
def test_single_number_state_is_migrated_to_the_primary_number(stream):
    legacy_state = {CURSOR_FIELD[stream]: "2026-11-15T10:00:00Z"}
    with MockedApi() as http:
        http.get(window_request(stream, ("2026-11-15T09:59:59Z", "2026-11-15T12:00:01Z")), empty(stream))
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().build(), state=legacy_state)

    assert final_state(output)["states"][0]["partition"] == {"phone": PHONE}


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(NOW)
def test_full_refresh_reads_all_history_whatever_the_start_date(stream):
    config = ConfigBuilder().with_window_days(3650).build()
    with MockedApi() as http:
        # All history: the first window has no start_time and, in a full refresh, the last one no end_time.
        http.get(PeriskopeRequestBuilder.for_stream(stream).with_times(end_time="2018-12-30T00:00:00Z").with_page(0).build(),
                 page(stream, records(stream, 1, newest="2015-05-05T05:05:05+00:00")))
        http.get(PeriskopeRequestBuilder.for_stream(stream).with_times(start_time="2018-12-30T00:00:00Z").with_page(0).build(),
                 page(stream, example_records(stream)))
        output = read_stream(stream, SyncMode.full_refresh, config)

    assert len(output.records) == 1 + len(example_records(stream))


@freeze_time(NOW)
def test_records_missing_org_phone_get_the_number_they_were_read_through():
    message = a_record("messages")
    del message["org_phone"]
    with MockedApi() as http:
        http.get(window_request("messages", FIRST_WINDOW), empty("messages"))
        http.get(window_request("messages", SECOND_WINDOW), page("messages", [message]))
        output = read_stream("messages", SyncMode.incremental, ConfigBuilder().build())

    assert record_data(output)[0]["org_phone"] == f"{PHONE}@c.us"


@pytest.mark.parametrize("records_key", ["messages", "notifictions", "notifications"])
@freeze_time(NOW)
def test_notifications_accept_each_records_key_the_docs_and_sdk_use(records_key):
    with MockedApi() as http:
        http.get(window_request("notifications", FIRST_WINDOW), page("notifications", [], records_key=records_key))
        http.get(window_request("notifications", SECOND_WINDOW),
                 page("notifications", example_records("notifications"), records_key=records_key))
        output = read_stream("notifications", SyncMode.incremental, ConfigBuilder().build())

    assert len(output.records) == 1


@freeze_time(NOW)
def test_camel_case_ids_and_json_strings_are_normalised():
    notification = a_record("notifications", recipientids='["919537851844@c.us"]', metadata='not json {',
                            timestamp="2026-11-01 08:00:00+00")
    with MockedApi() as http:
        http.get(window_request("notifications", FIRST_WINDOW), empty("notifications"))
        http.get(window_request("notifications", SECOND_WINDOW), page("notifications", [notification]))
        output = read_stream("notifications", SyncMode.incremental, ConfigBuilder().build())

    emitted = record_data(output)[0]
    assert emitted["id"]["from_me"] is True and "fromMe" not in emitted["id"]
    assert emitted["recipientids"] == ["919537851844@c.us"]
    assert emitted["metadata"] == {"unparsed_text": "not json {"}  # kept, in the declared type, with a warning
    assert emitted["timestamp"] == "2026-11-01T08:00:00+00:00"
    assert output.is_in_logs("field metadata is text that is not a JSON object")


# -- what the state promises: a record newer than the newest one emitted is read by a later sync ------------------
LATER = "2026-11-18T12:00:00Z"  # a second sync, three days after NOW


def probe(stream, start, end, phone=PHONE):
    return PeriskopeRequestBuilder.for_stream(stream, phone).as_probe(start, end).build()


@pytest.mark.parametrize("stream", PHONE_STREAMS)
def test_a_record_that_reaches_the_api_late_is_read_by_the_next_sync(stream):
    """A phone offline for days delivers its backlog with the original timestamps, after the first sync ran."""
    cursor = CURSOR_FIELD[stream]
    with freeze_time(NOW), MockedApi() as http:
        http.get(window_request(stream, FIRST_WINDOW), page(stream, records(stream, 2, newest="2026-10-20T10:00:00+00:00")))
        http.get(window_request(stream, SECOND_WINDOW), page(stream, records(stream, 1, newest="2026-11-10T08:00:00+00:00")))
        first = read_stream(stream, SyncMode.incremental, ConfigBuilder().build())
    state = final_state(first)
    # The state is the newest record emitted, not the sync's start: nothing after it has been seen.
    assert state["states"][0]["cursor"][cursor] == "2026-11-10T08:00:00Z"

    late = a_record(stream, **{ID_FIELD[stream]: "late", cursor: "2026-11-12T09:30:00+00:00"})
    with freeze_time(LATER), MockedApi() as http:
        http.get(probe(stream, "2026-11-10T07:59:59Z", "2026-11-18T12:00:01Z"), page(stream, [late]))
        http.get(window_request(stream, ("2026-11-10T07:59:59Z", "2026-11-18T12:00:01Z")), page(stream, [late]))
        second = read_stream(stream, SyncMode.incremental, ConfigBuilder().build(), state=state)

    assert [r[ID_FIELD[stream]] for r in record_data(second)] == ["late"]
    assert final_state(second)["states"][0]["cursor"][cursor] == "2026-11-12T09:30:00Z"


@pytest.mark.parametrize("stream", PHONE_STREAMS)
@freeze_time(LATER)
def test_a_sync_with_nothing_new_makes_one_probe_and_keeps_the_state(stream):
    cursor = CURSOR_FIELD[stream]
    state = {"states": [{"partition": {"phone": PHONE}, "cursor": {cursor: "2026-11-10T08:00:00Z"}}]}
    newest = a_record(stream, **{cursor: "2026-11-10T08:00:00+00:00"})  # the record the state came from
    with MockedApi() as http:
        http.get(probe(stream, "2026-11-10T07:59:59Z", "2026-11-18T12:00:01Z"), page(stream, [newest]))
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().build(), state=state)

    assert output.records == []
    assert final_state(output)["states"] == state["states"]
    assert output.is_in_logs(f"Stream {stream}: {PHONE} has nothing new since 2026-11-10T08:00:00Z")


@freeze_time(LATER)
def test_only_the_number_with_something_new_is_read():
    state = {"states": [{"partition": {"phone": phone}, "cursor": {"timestamp": "2026-11-10T08:00:00Z"}} for phone in (PHONE, OTHER_PHONE)]}
    config = ConfigBuilder().with_additional_phone_numbers([OTHER_PHONE]).build()
    new = a_record("messages", message_id="new", timestamp="2026-11-17T00:00:00+00:00", org_phone=f"{OTHER_PHONE}@c.us")
    window = ("2026-11-10T07:59:59Z", "2026-11-18T12:00:01Z")
    with MockedApi() as http:
        http.get(probe("messages", *window), page("messages", []))
        http.get(probe("messages", *window, phone=OTHER_PHONE), page("messages", [new]))
        http.get(window_request("messages", window, phone=OTHER_PHONE), page("messages", [new]))
        output = read_stream("messages", SyncMode.incremental, config, state=state)

    assert [r["message_id"] for r in record_data(output)] == ["new"]
    by_phone = {s["partition"]["phone"]: s["cursor"]["timestamp"] for s in final_state(output)["states"]}
    assert by_phone == {PHONE: "2026-11-10T08:00:00Z", OTHER_PHONE: "2026-11-17T00:00:00Z"}


@freeze_time(NOW)
def test_a_number_with_no_records_at_all_is_confirmed_empty_and_keeps_the_start_date_as_state():
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("notes").with_window("2026-10-01T00:00:00Z", "2026-11-15T12:00:01Z").with_page(0, 100).build(),
                 page("notes", []))
        # One more, bounded request confirms it: the last window is empty too.
        http.get(probe("notes", "2026-10-16T12:00:00Z", "2026-11-15T12:00:01Z"), page("notes", []))
        output = read_stream("notes", SyncMode.incremental, ConfigBuilder().build())

    assert output.records == []
    # Nothing emitted: the state stays at start_date, so a backlog delivered later with old timestamps is read.
    assert final_state(output)["states"] == [{"partition": {"phone": PHONE}, "cursor": {"timestamp": "2026-10-01T00:00:00Z"}}]


@freeze_time(NOW)
def test_a_state_is_emitted_after_each_window():
    config = ConfigBuilder().with_window_days(10).build()
    windows = [("2026-10-01T00:00:00Z", "2026-10-11T00:00:00Z"), ("2026-10-11T00:00:00Z", "2026-10-21T00:00:00Z"),
               ("2026-10-21T00:00:00Z", "2026-10-31T00:00:00Z"), ("2026-10-31T00:00:00Z", "2026-11-10T00:00:00Z"),
               ("2026-11-10T00:00:00Z", "2026-11-15T12:00:01Z")]
    with MockedApi() as http:
        for number, window in enumerate(windows):
            day = window[0][:10]
            http.get(window_request("messages", window),
                     page("messages", records("messages", 1, newest=f"{day}T06:00:00+00:00", message_id=f"m{number}")))
        output = read_stream("messages", SyncMode.incremental, config)

    states = [m.state.stream.stream_state.__dict__ for m in output.state_messages]
    assert len(states) >= len(windows)  # a checkpoint per closed window, not one per ten minutes
    values = [s["states"][0]["cursor"]["timestamp"] for s in states if s.get("states")]
    assert values == sorted(values) and values[-1] == "2026-11-10T06:00:00Z"


@freeze_time(NOW)
def test_the_state_never_passes_the_windows_read():
    """/chats may filter on another field than updated_at: a chat updated later than its window must not move the
    state past windows that were not read."""
    updated_later = a_record("chats", updated_at="2026-11-14T10:00:00+00:00")
    with MockedApi() as http:
        http.get(window_request("chats", FIRST_WINDOW), page("chats", [updated_later]))
        http.get(window_request("chats", SECOND_WINDOW), error(401))
        output = read_stream("chats", SyncMode.incremental, ConfigBuilder().build(), expect_error=True)

    values = [s["cursor"]["updated_at"] for m in output.state_messages for s in m.state.stream.stream_state.__dict__.get("states", [])]
    assert values and all(value <= "2026-10-31T00:00:00Z" for value in values)


@freeze_time(NOW)
def test_text_cut_in_the_middle_of_an_emoji_is_read_and_repaired_with_a_warning():
    message = a_record("messages", body="Thanks \ud83d")
    body = page("messages", [message]).body.replace("Thanks \\\\ud83d", "Thanks \\ud83d")
    assert "\\ud83d" in body  # a lone surrogate escape, as JavaScript writes it
    with MockedApi() as http:
        http.get(window_request("messages", FIRST_WINDOW), empty("messages"))
        http.get(window_request("messages", SECOND_WINDOW), HttpResponse(body))
        output = read_stream("messages", SyncMode.incremental, ConfigBuilder().build())

    assert record_data(output)[0]["body"] == "Thanks \ufffd"
    assert output.is_in_logs("Stream messages: field body held text cut in the middle of a character")


@freeze_time(NOW)
def test_a_sparse_history_that_fits_in_one_page_is_read_in_one_window():
    """A first sync of notes: a whole page of the range has three notes, so one window from the oldest reads them
    (instead of ten probes and a request per empty 30-day window)."""
    notes = records("notes", 3, newest="2026-11-01T10:00:00+00:00")
    oldest = "2026-11-01T09:57:59Z"  # the oldest note (two minutes before the newest) less one second
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("notes").with_window("2026-10-01T00:00:00Z", "2026-11-15T12:00:01Z").with_page(0, 100).build(),
                 page("notes", notes))
        http.get(probe("notes", "2026-10-02T09:57:59Z", "2026-11-01T09:57:59Z"), page("notes", []))  # the stretch before: empty
        http.get(window_request("notes", (oldest, "2026-11-15T12:00:01Z")), page("notes", notes))
        output = read_stream("notes", SyncMode.incremental, ConfigBuilder().build())

    assert len(output.records) == 3
