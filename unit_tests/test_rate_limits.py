"""One reader of the rate-limit headers for every request: Retry-After and X-RateLimit-* in their plausible forms."""

import pytest

from source_periskope.rate_limits import QuotaReading, quota_reading, seconds_until_reset, wait_from_headers

NOW = 1_794_744_000.0  # 2026-11-15T12:00:00Z


@pytest.mark.parametrize("status, headers, wait", [
    (429, {"Retry-After": "7"}, 7.0),
    (429, {"Retry-After": "Sun, 15 Nov 2026 12:00:30 GMT"}, 30.0),
    (503, {"Retry-After": "2"}, 2.0),
    (429, {"X-RateLimit-Reset": str(int(NOW) + 12)}, 13.0),  # epoch seconds: the end of that second
    (429, {"X-RateLimit-Reset": str(int(NOW * 1000) + 4500)}, 4.5),  # epoch milliseconds
    (429, {"X-RateLimit-Reset": "9"}, 10.0),  # whole seconds to wait: until the end of the ninth
    (429, {"X-RateLimit-Reset": "2.5"}, 2.5),  # a fraction is taken as written
    (429, {"Retry-After": "soon", "X-RateLimit-Reset": "3"}, 4.0),
    (429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 12)}, 13.0),
    (429, {"X-RateLimit-Remaining": "37", "X-RateLimit-Reset": str(int(NOW) + 44)}, None),  # quota left: no wait for Reset
    (429, {"X-RateLimit-Remaining": "37", "Retry-After": "3"}, 3.0),  # Retry-After is honoured whatever is left
    (429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) - 2)}, None),  # a Reset already past
    (500, {"X-RateLimit-Reset": "59"}, None),  # every response carries Reset: it says nothing about a 500
    (429, {}, None),
    (429, {"X-RateLimit-Reset": "tomorrow"}, None),
])
def test_the_wait_a_response_asks_for(status, headers, wait):
    assert wait_from_headers(status, headers, NOW) == wait


def test_reset_units():
    assert seconds_until_reset("30", NOW) == 31
    assert seconds_until_reset(str(int(NOW) + 30), NOW) == 31  # written rounded down, the window ends within 31 s
    assert seconds_until_reset(str(int(NOW) * 1000 + 30_000), NOW) == 30


@pytest.mark.parametrize("headers, reading", [
    ({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "40"}, QuotaReading(300, 12, 41.0)),
    ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 5)}, QuotaReading(None, 0, 6.0)),
    ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW))}, QuotaReading(None, 0, 1.0)),  # this second
    ({"X-RateLimit-Limit": "300", "X-RateLimit-Reset": "40"}, None),  # no Remaining
    ({"X-RateLimit-Remaining": "-1", "X-RateLimit-Reset": "40"}, None),
    ({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": str(int(NOW) - 100)}, None),  # a reset in the past
    ({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "999999"}, None),  # more than a day away
])
def test_the_quota_a_response_reports(headers, reading):
    assert quota_reading(headers, NOW) == reading
