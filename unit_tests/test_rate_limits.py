"""One reader of the rate-limit headers for every request: Retry-After and X-RateLimit-* in their plausible forms."""

import pytest

from source_periskope.rate_limits import QuotaReading, quota_reading, seconds_until_reset, wait_from_headers

NOW = 1_794_744_000.0  # 2026-11-15T12:00:00Z


@pytest.mark.parametrize("status, headers, wait", [
    (429, {"Retry-After": "7"}, 7.0),
    (429, {"Retry-After": "Sun, 15 Nov 2026 12:00:30 GMT"}, 30.0),
    (503, {"Retry-After": "2"}, 2.0),
    (429, {"X-RateLimit-Reset": str(int(NOW) + 12)}, 12.0),  # epoch seconds
    (429, {"X-RateLimit-Reset": str(int(NOW * 1000) + 4500)}, 4.5),  # epoch milliseconds
    (429, {"X-RateLimit-Reset": "9"}, 9.0),  # seconds to wait
    (429, {"Retry-After": "soon", "X-RateLimit-Reset": "3"}, 3.0),
    (500, {"X-RateLimit-Reset": "59"}, None),  # every response carries Reset: it says nothing about a 500
    (429, {}, None),
    (429, {"X-RateLimit-Reset": "tomorrow"}, None),
])
def test_the_wait_a_response_asks_for(status, headers, wait):
    assert wait_from_headers(status, headers, NOW) == wait


def test_reset_units():
    assert seconds_until_reset("30", NOW) == 30
    assert seconds_until_reset(str(int(NOW) + 30), NOW) == 30
    assert seconds_until_reset(str(int(NOW) * 1000 + 30_000), NOW) == 30


@pytest.mark.parametrize("headers, reading", [
    ({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "40"}, QuotaReading(300, 12, 40.0)),
    ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 5)}, QuotaReading(None, 0, 5.0)),
    ({"X-RateLimit-Limit": "300", "X-RateLimit-Reset": "40"}, None),  # no Remaining
    ({"X-RateLimit-Remaining": "-1", "X-RateLimit-Reset": "40"}, None),
    ({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": str(int(NOW) - 100)}, None),  # a reset in the past
    ({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "999999"}, None),  # more than a day away
])
def test_the_quota_a_response_reports(headers, reading):
    assert quota_reading(headers, NOW) == reading
