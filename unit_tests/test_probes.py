import re
from datetime import datetime, timezone

import requests_mock

from source_periskope.config import normalize_config
from source_periskope.history import MARGIN, PRECISION, history_start
from unit_tests.mock_server.config import BASE_URL, OTHER_PHONE, PHONE

NOW = datetime(2026, 11, 15, 12, tzinfo=timezone.utc)
OLDEST = {PHONE: datetime(2024, 3, 10, 8, 30, tzinfo=timezone.utc), OTHER_PHONE: datetime(2025, 6, 1, tzinfo=timezone.utc)}


def config():
    return normalize_config({"api_key": "k", "phone_number": PHONE, "additional_phone_numbers": [OTHER_PHONE], "base_url": BASE_URL})


def answer_from_history(request, context):
    """A phone has records from OLDEST[phone] on; the API filters by start_time/end_time."""
    end = datetime.strptime(request.qs["end_time"][0].upper(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    has_record = OLDEST[request.headers["x-phone"]] <= end
    return {"from": 1, "to": int(has_record), "count": int(has_record), "messages": [{"message_id": "m"}] if has_record else []}


def test_reading_starts_at_the_oldest_record_of_any_number_found_in_a_few_requests():
    with requests_mock.Mocker() as http:
        probe = http.get(re.compile(f"{BASE_URL}/chats/messages"), json=answer_from_history)
        start = history_start(config(), "messages", "2009-01-01T00:00:00Z", NOW)

    begin = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert OLDEST[PHONE] - PRECISION - MARGIN <= begin <= OLDEST[PHONE] - MARGIN
    assert probe.call_count <= 2 * 12
    assert all(r.qs["limit"] == ["1"] for r in probe.request_history)


def test_a_stream_with_no_records_at_all_starts_now():
    with requests_mock.Mocker() as http:
        http.get(re.compile(f"{BASE_URL}/note"), json={"from": 1, "to": 0, "count": 0, "notes": []})
        start = history_start(config(), "notes", "2009-01-01T00:00:00Z", NOW)

    assert start == (NOW - MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_any_failure_keeps_the_configured_start():
    with requests_mock.Mocker() as http:
        http.get(re.compile(f"{BASE_URL}/reactions"), status_code=429)
        assert history_start(config(), "reactions", "2009-01-01T00:00:00Z", NOW) == "2009-01-01T00:00:00Z"
        http.get(re.compile(f"{BASE_URL}/reactions"), text="<html>")
        assert history_start(config(), "reactions", "2009-01-01T00:00:00Z", NOW) == "2009-01-01T00:00:00Z"


def test_a_configured_start_date_is_never_moved_back():
    with requests_mock.Mocker() as http:
        http.get(re.compile(f"{BASE_URL}/chats/messages"), json=answer_from_history)
        assert history_start(config(), "messages", "2026-01-01T00:00:00Z", NOW) == "2026-01-01T00:00:00Z"
