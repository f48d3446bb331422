"""The one-record probes: where a number's history begins, confirmed before anything is skipped."""

import re
from datetime import datetime, timedelta, timezone

import requests_mock

from source_periskope.config import normalize_config
from source_periskope.probes import MARGIN, PRECISION, UNKNOWN, HistoryStart, history_begin, newest_cursor
from source_periskope.stream_facts import stream
from unit_tests.mock_server.config import BASE_URL, PHONE

NOW = datetime(2026, 11, 15, 12, tzinfo=timezone.utc)
ALL_HISTORY = datetime(2009, 1, 1, tzinfo=timezone.utc)
OLDEST = datetime(2024, 3, 10, 8, 30, tzinfo=timezone.utc)
MESSAGES = stream("messages")


def config(**values):
    return normalize_config({"api_key": "k", "phone_number": PHONE, "base_url": BASE_URL, **values})


OPEN = {"start_time": datetime(1970, 1, 1, tzinfo=timezone.utc), "end_time": datetime(9999, 1, 1, tzinfo=timezone.utc)}


def moment(request, name):
    """A time filter of a probe; an open end (all history, so records before 2009 or in the future count) as far as it goes."""
    if name not in request.qs:
        return OPEN[name]
    return datetime.strptime(request.qs[name][0].upper(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def history_from(oldest, answers_long_ranges=True):
    """A number with records from `oldest` on; optionally an API that answers nothing for ranges over a year."""
    def answer(request, context):
        start, end = moment(request, "start_time"), moment(request, "end_time")
        found = oldest <= end and (answers_long_ranges or end - start <= timedelta(days=365))
        return {"from": 1, "to": int(found), "count": int(found), "messages": [{"message_id": "m"}] if found else []}
    return answer


def test_reading_starts_a_day_before_the_week_of_the_oldest_record_found_in_a_few_requests():
    with requests_mock.Mocker() as http:
        probe = http.get(re.compile(f"{BASE_URL}/chats/messages"), json=history_from(OLDEST))
        history = history_begin(config(), MESSAGES, PHONE, ALL_HISTORY, NOW)

    assert OLDEST - PRECISION - MARGIN <= history.begin <= OLDEST - MARGIN and not history.in_one_page
    assert probe.call_count <= 14  # a page, ~log2(6,500 days / 7), anything before 2009?, the confirmation
    assert probe.request_history[0].qs["limit"] == ["1999"]  # first, a whole page: does the history fit in it?
    assert all(r.qs["limit"] == ["1"] and r.headers["x-phone"] == PHONE for r in probe.request_history[1:])


def test_a_number_with_no_records_is_confirmed_empty_by_its_last_window():
    with requests_mock.Mocker() as http:
        probe = http.get(re.compile(f"{BASE_URL}/chats/messages"), json={"from": 1, "to": 0, "count": 0, "messages": []})
        assert history_begin(config(), MESSAGES, PHONE, ALL_HISTORY, NOW) == HistoryStart(None, False)

    assert probe.call_count == 2
    assert moment(probe.request_history[1], "start_time") == NOW - timedelta(days=30)


def test_an_empty_answer_for_all_history_that_the_last_window_contradicts_keeps_the_configured_start():
    with requests_mock.Mocker() as http:
        http.get(re.compile(f"{BASE_URL}/chats/messages"), json=history_from(NOW - timedelta(days=3), answers_long_ranges=False))
        assert history_begin(config(), MESSAGES, PHONE, ALL_HISTORY, NOW) == HistoryStart(ALL_HISTORY, False)


def test_a_landing_that_the_stretch_before_it_contradicts_keeps_the_configured_start():
    """The bisection's answers for long ranges were wrong: a bounded look just before the landing sees records."""
    def answer(request, context):
        start, end = moment(request, "start_time"), moment(request, "end_time")
        long_range = end - start > timedelta(days=365)
        found = (end >= OLDEST) if long_range else (end >= OLDEST - timedelta(days=400))
        return {"from": 1, "to": int(found), "count": int(found), "messages": [{"message_id": "m"}] if found else []}

    with requests_mock.Mocker() as http:
        http.get(re.compile(f"{BASE_URL}/chats/messages"), json=answer)
        assert history_begin(config(), MESSAGES, PHONE, ALL_HISTORY, NOW) == HistoryStart(ALL_HISTORY, False)


def test_a_configured_start_date_is_never_moved_back():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with requests_mock.Mocker() as http:
        http.get(re.compile(f"{BASE_URL}/chats/messages"), json=history_from(OLDEST))
        assert history_begin(config(), MESSAGES, PHONE, start, NOW).begin == start


def test_a_history_that_fits_in_one_page_begins_at_its_oldest_record_with_one_page_and_one_confirmation():
    sparse = [{"message_id": f"m{n}", "timestamp": f"2025-0{n}-01T10:00:00+00:00"} for n in range(1, 4)]

    def answer(request, context):
        found = sparse if request.qs["limit"] != ["1"] else []  # the stretch before the oldest record is empty
        return {"from": 1, "to": len(found), "count": len(found), "messages": found}

    with requests_mock.Mocker() as http:
        probe = http.get(re.compile(f"{BASE_URL}/chats/messages"), json=answer)
        history = history_begin(config(), MESSAGES, PHONE, ALL_HISTORY, NOW)

    assert history == HistoryStart(datetime(2025, 1, 1, 9, 59, 59, tzinfo=timezone.utc), True)
    assert probe.call_count == 2


def test_the_newest_record_tells_what_is_new():
    with requests_mock.Mocker() as http:
        http.get(re.compile(f"{BASE_URL}/chats/messages"), json={"from": 1, "to": 1, "count": 1, "messages": [{"timestamp": "2026-11-14 10:00:00.5+00"}]})
        assert newest_cursor(config(), MESSAGES, PHONE, NOW - timedelta(days=2), NOW) == datetime(2026, 11, 14, 10, 0, 0, 500000, tzinfo=timezone.utc)
        http.get(re.compile(f"{BASE_URL}/chats/messages"), json={"from": 1, "to": 1, "count": 1, "messages": [{"timestamp": None}]})
        assert newest_cursor(config(), MESSAGES, PHONE, NOW - timedelta(days=2), NOW) is UNKNOWN
        http.get(re.compile(f"{BASE_URL}/chats/messages"), json={"from": 1, "to": 0, "count": 0, "messages": []})
        assert newest_cursor(config(), MESSAGES, PHONE, NOW - timedelta(days=2), NOW) is None
