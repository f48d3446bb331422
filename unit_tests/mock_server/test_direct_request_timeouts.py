"""A sync's own requests before the streams (the probes, the phone lookup) wait as long as request_timeout_seconds.

The API is emulated as answering after SLOW_SECONDS: a request whose read timeout is shorter gets a read timeout
(requests_mock hands each callback the timeout the request was sent with, so nothing actually waits).
"""

import re

import requests
import requests_mock
from airbyte_cdk.models import SyncMode
from freezegun import freeze_time

from unit_tests.mock_server.config import BASE_URL, PHONE, ConfigBuilder
from unit_tests.mock_server.response_builder import records
from unit_tests.mock_server.utils import read_stream

NOW = "2026-11-15T12:00:00Z"
SLOW_SECONDS = 15  # longer than the 10 s the direct requests used to allow, shorter than request_timeout_seconds
PHONE_ID = "phone-5a1e"


def answering_after(seconds, body):
    def answer(request, context):
        connect, read = request.timeout if isinstance(request.timeout, tuple) else (request.timeout, request.timeout)
        if read is not None and read < seconds:
            raise requests.exceptions.ReadTimeout(f"no answer within {read} s")
        return body(request) if callable(body) else body
    return answer


def messages(request):
    found = records("messages", 3, newest="2026-11-10T10:00:00+00:00") if request.qs["limit"] != ["1"] else []
    return {"from": 1, "to": len(found), "count": len(found), "messages": found}


@freeze_time(NOW)
def test_a_slow_whole_range_probe_is_waited_for_instead_of_reading_every_window_since_the_start():
    config = ConfigBuilder().with_values(request_timeout_seconds=60, max_retries=1).build()
    with requests_mock.Mocker() as http:
        calls = http.get(re.compile(f"{BASE_URL}/chats/messages"), json=answering_after(SLOW_SECONDS, messages))
        output = read_stream("messages", SyncMode.incremental, config)

    assert len(output.records) == 3
    # The whole range in one page, the empty stretch before its oldest record, then one window from that record
    # (a probe that gave up would read the two windows from start_date).
    assert [(r.qs["start_time"][0], r.qs["limit"][0]) for r in calls.request_history] == [
        ("2026-10-01t00:00:00z", "100"), ("2026-10-11t09:57:59z", "1"), ("2026-11-10t09:57:59z", "100")]
    assert all(r.timeout[1] == 60 for r in calls.request_history)


@freeze_time(NOW)
def test_a_slow_phone_lookup_is_waited_for_so_the_number_keeps_its_name():
    phones = [{"phone_id": PHONE_ID, "org_phone": f"{PHONE}@c.us", "wa_state": "CONNECTED"}]
    config = ConfigBuilder().with_phone_number(PHONE_ID).with_values(request_timeout_seconds=60, max_retries=1).build()
    with requests_mock.Mocker() as http:
        lookup = http.get(f"{BASE_URL}/phones/all", json=answering_after(SLOW_SECONDS, phones))
        listed = http.get(re.compile(f"{BASE_URL}/chats/messages"), json=lambda request, context: messages(request))
        output = read_stream("messages", SyncMode.incremental, config)

    assert lookup.call_count == 1 and lookup.request_history[0].timeout[1] == 60
    assert {r.headers["x-phone"] for r in listed.request_history} == {PHONE}  # not the phone id: the state's name
    assert output.most_recent_state.stream_state.__dict__["states"][0]["partition"] == {"phone": PHONE}


def test_the_check_keeps_its_short_patience():
    from source_periskope.api import CHECK, TIMEOUT_SECONDS, sync_patience

    assert CHECK.timeout is None and TIMEOUT_SECONDS == (5, 10)
    assert sync_patience({"request_timeout_seconds": 90}).timeout == (10, 90)
