"""Every request waits its turn in one pace per API key, set by the X-RateLimit-* headers of the responses.

The waits are recorded instead of slept (source_periskope.pacing.sleep); time is frozen at NOW.
"""

import pytest
import requests
import requests_mock
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpResponse
from freezegun import freeze_time

from source_periskope import SourcePeriskope, api
from source_periskope.config import normalize_config
from unit_tests.mock_server.config import BASE_URL, PHONE, ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import SECOND_OFFSET, after_overlap, error, page, records
from unit_tests.mock_server.utils import MockedApi, read_stream

NOW = "2026-11-15T12:00:00Z"
NOW_EPOCH = 1794744000


@pytest.fixture
def waits(monkeypatch):
    recorded = []
    monkeypatch.setattr("source_periskope.pacing.sleep", recorded.append)
    return recorded


def with_quota(response, remaining, reset):
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(reset)}
    return HttpResponse(response.body, response.status_code, {**response.headers, **headers})


def tickets_page(offset):
    return PeriskopeRequestBuilder.for_stream("tickets").with_page(offset).build()


def two_pages(stream, first_headers_reset):
    first = records(stream, 100)
    more = [dict(r, **{"ticket_id" if stream == "tickets" else "contact_id": f"{stream}-b{n}"}) for n, r in enumerate(records(stream, 3))]
    second = after_overlap(first, more)
    return with_quota(page(stream, first), 0, first_headers_reset), with_quota(page(stream, second, offset=SECOND_OFFSET), 59, 60)


@pytest.mark.parametrize("reset", ["30", str(NOW_EPOCH + 30), str((NOW_EPOCH + 30) * 1000)],
                         ids=["seconds to wait", "epoch seconds", "epoch milliseconds"])
@freeze_time(NOW)
def test_when_nothing_remains_the_next_request_waits_until_the_reset_whatever_its_unit(reset, waits):
    first, second = two_pages("tickets", reset)
    with MockedApi() as http:
        http.get(tickets_page(0), first)
        http.get(tickets_page(SECOND_OFFSET), second)
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert len(output.records) == 103
    assert len(waits) == 1 and 30 <= waits[0] <= 31.1 + (reset != str((NOW_EPOCH + 30) * 1000))  # whole seconds: +1


@freeze_time(NOW)
def test_streams_share_one_pace(waits):
    """Every answer says nothing remains: with one pace per API key, every request after the first waits. (One
    worker, so that each request is answered before the next is sent; integration_tests/test_rate_limits.py shows
    the pace under several workers and numbers.)"""
    config = ConfigBuilder().with_values(num_workers=1).build()
    catalog = CatalogBuilder().with_stream("tickets", SyncMode.full_refresh).with_stream("contacts", SyncMode.full_refresh).build()
    contacts_page = lambda offset: PeriskopeRequestBuilder.for_stream("contacts").with_page(offset).build()  # noqa: E731
    with MockedApi() as http:
        for stream, request in (("tickets", tickets_page), ("contacts", contacts_page)):
            first, second = two_pages(stream, "20")
            http.get(request(0), first)
            http.get(request(SECOND_OFFSET), with_quota(second, 0, 20))
        output = read(SourcePeriskope(catalog=catalog, config=config), config, catalog)

    assert not output.errors and len(output.records) == 206
    assert len(waits) == 3  # four requests, one pace (separate paces per stream would wait twice)


@freeze_time(NOW)
def test_the_read_plans_probes_count_against_the_same_pace(waits):
    state = {"states": [{"partition": {"phone": PHONE}, "cursor": {"timestamp": "2026-11-10T08:00:00Z"}}]}
    window = ("2026-11-10T07:59:59Z", "2026-11-15T12:00:01Z")
    newer = records("messages", 1, newest="2026-11-14T00:00:00+00:00")
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("messages").as_probe(*window).build(), with_quota(page("messages", newer), 0, 15))
        http.get(PeriskopeRequestBuilder.for_stream("messages").with_window(*window).with_page(0, 100).build(), page("messages", newer))
        output = read_stream("messages", SyncMode.incremental, ConfigBuilder().build(), state=state)

    assert len(output.records) == 1
    assert len(waits) == 1 and 15 <= waits[0] <= 17  # the stream's request waited for the probe's quota


@pytest.mark.parametrize("headers", [
    {},
    {"X-RateLimit-Remaining": "0"},  # no reset
    {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "tomorrow"},
    {"X-RateLimit-Remaining": "-1", "X-RateLimit-Reset": "30"},
    {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(NOW_EPOCH - 100)},  # a reset in the past
])
@freeze_time(NOW)
def test_missing_or_odd_headers_leave_requests_unpaced(headers, waits):
    first, second = two_pages("tickets", "30")
    with MockedApi() as http:
        http.get(tickets_page(0), HttpResponse(first.body, 200, headers))
        http.get(tickets_page(SECOND_OFFSET), HttpResponse(second.body, 200, headers))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert len(output.records) == 103 and waits == []


@freeze_time(NOW)
def test_a_429_is_still_honoured_and_holds_back_the_next_requests(waits):
    first, second = two_pages("tickets", "30")
    with MockedApi() as http:
        http.get(tickets_page(0), [error(429, headers={"Retry-After": "7"}), with_quota(first, 5, 30)])
        http.get(tickets_page(SECOND_OFFSET), second)
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert len(output.records) == 103
    assert output.is_in_logs(r"Stream tickets: HTTP 429 from /v1/tickets; retrying in 7.0 s")
    # The retry waited its turn too (time is frozen here; in a real sync the backoff has already waited it out).
    assert len(waits) == 1 and 7 <= waits[0] <= 8


@freeze_time(NOW)
def test_a_429_that_asks_for_one_second_holds_for_one_second_whatever_an_earlier_answer_said(waits):
    """Every answer carries the window's reset (here 44 s away); a 429 then says 1 s: the pace waits 1 s, not 44."""
    first, second = two_pages("tickets", "30")
    with MockedApi() as http:
        http.get(tickets_page(0), with_quota(first, 100, 44))
        http.get(tickets_page(SECOND_OFFSET), [with_quota(error(429), 0, 1), with_quota(second, 99, 43)])
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert len(output.records) == 103
    assert waits and max(waits) <= 3


@freeze_time(NOW)
def test_an_attempt_whose_connection_was_reset_no_longer_counts_against_the_quota(waits):
    """One request is left in the window; the next page's first attempt loses its connection and is retried. The
    retry is that one request: it must not wait for the reset as if the lost attempt were still in flight."""
    first, second = two_pages("tickets", "30")
    first = with_quota(first, 1, 30)
    with requests_mock.Mocker() as http:  # HttpMocker answers only with responses; this needs a reset connection
        http.get(f"{BASE_URL}/tickets?offset=0", text=first.body, headers=dict(first.headers))
        http.get(f"{BASE_URL}/tickets?offset={SECOND_OFFSET}", [
            {"exc": requests.exceptions.ConnectionError("Connection reset by peer")},
            {"text": second.body, "headers": dict(second.headers)},
        ])
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert len(output.records) == 103
    assert http.call_count == 3
    assert sum(waits) == 0


@freeze_time(NOW)
def test_a_429_that_still_reports_quota_left_is_retried_alone_after_a_short_backoff(waits):
    """A burst or per-endpoint limiter answers 429 while the window has 37 requests left and resets in 44 s, with no
    Retry-After: the retry waits the short backoff, not the 44 s, and the pace holds no other request."""
    first, second = two_pages("tickets", "30")
    with MockedApi() as http:
        http.get(tickets_page(0), [with_quota(error(429), 37, 44), with_quota(first, 36, 44)])
        http.get(tickets_page(SECOND_OFFSET), with_quota(second, 35, 44))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert len(output.records) == 103
    retry = next(m.log.message for m in output.logs if "HTTP 429 from /v1/tickets; retrying in" in m.log.message)
    assert float(retry.split("retrying in ")[1].split(" s")[0]) < 5  # retry_backoff_seconds 2, with jitter
    assert sum(waits) == 0  # no request waited for the pace


@freeze_time(NOW)
def test_a_429_reporting_nothing_left_still_holds_the_key_until_the_reset(waits):
    first, second = two_pages("tickets", "30")
    with MockedApi() as http:
        http.get(tickets_page(0), [with_quota(error(429), 0, 20), with_quota(first, 59, 60)])
        http.get(tickets_page(SECOND_OFFSET), with_quota(second, 58, 60))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert len(output.records) == 103
    assert output.is_in_logs(r"Stream tickets: HTTP 429 from /v1/tickets; retrying in 21.0 s")
    assert len(waits) == 1 and 20 <= waits[0] <= 21.1


@freeze_time(NOW)
def test_a_direct_request_is_retried_after_a_short_backoff_when_its_429_reports_quota_left(monkeypatch, waits):
    """The same in api.get (the check, the phone list, the probes): before, the retry slept until the Reset."""
    slept = []
    monkeypatch.setattr("time.sleep", slept.append)
    quota_left = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "37", "X-RateLimit-Reset": "44"}
    config = normalize_config(ConfigBuilder().build())
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/phones/all", [{"status_code": 429, "json": {}, "headers": quota_left},
                                            {"status_code": 200, "json": [], "headers": quota_left}])
        response = api.get(config, "/phones/all", patience=api.sync_patience(config))

    assert response.status_code == 200
    assert slept and max(slept) < 5 and sum(waits) == 0
