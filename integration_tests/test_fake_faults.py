"""Fault injection on the fake Periskope server: every fault kind's response, the
path filter, connection faults, slow answers, ignored offsets and seeded random faults.

Run: .venv/bin/python -m pytest integration_tests/test_fake_faults.py -q
"""

import email.utils
import time

import orjson
import pytest
import requests

from integration_tests.fake_periskope import ALL_KINDS, FakePeriskope, FaultSettings
from integration_tests.fake_server_fixtures import PINNED_NOW, call, fresh  # noqa: F401  (fixtures)


# -- faults --------------------------------------------------------------------------------
def _check_429_retry_after(response):
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert response.json()["status"] == 429


def _check_429_retry_after_date(response):
    assert response.status_code == 429
    when = email.utils.parsedate_to_datetime(response.headers["Retry-After"]).timestamp()
    assert 0 < when - time.time() <= 3


def _check_429_reset_epoch(response):
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert 0 < int(response.headers["X-RateLimit-Reset"]) - time.time() <= 3


def _check_429_reset_seconds(response):
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert response.headers["X-RateLimit-Reset"] == "1" and response.headers["X-RateLimit-Remaining"] == "0"


def _check_429_bare(response):
    assert response.status_code == 429
    assert not any(h.lower().startswith(("retry-after", "x-ratelimit")) for h in response.headers)


def _check_429_quota_left(response):
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert int(response.headers["X-RateLimit-Remaining"]) > 0


def _check_json_error(status):
    def check(response):
        assert response.status_code == status and response.json()["status"] == status
    return check


def _check_html_error(status):
    def check(response):
        assert response.status_code == status and response.headers["Content-Type"].startswith("text/html")
    return check


def _check_malformed(response):
    assert response.status_code == 200
    with pytest.raises(ValueError):
        orjson.loads(response.content)


def _check_html(response):
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert b"<html" in response.content


def _check_missing_key(response):
    assert response.status_code == 200
    body = response.json()
    assert "messages" not in body and body["from"] == 11


def _check_not_utf8(response):
    assert response.status_code == 200
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    body = orjson.loads(response.content.decode("latin-1").encode("utf-8"))  # read as Latin-1, it is JSON
    assert any((record.get("body") or "").startswith("é") for record in body["messages"])


FAULT_CHECKS = {
    "429_retry_after": _check_429_retry_after,
    "429_retry_after_date": _check_429_retry_after_date,
    "429_reset_epoch": _check_429_reset_epoch,
    "429_reset_seconds": _check_429_reset_seconds,
    "429_bare": _check_429_bare,
    "429_quota_left": _check_429_quota_left,
    "500": _check_json_error(500),
    "502": _check_html_error(502),
    "503": _check_json_error(503),
    "504": _check_html_error(504),
    "malformed_json": _check_malformed,
    "html": _check_html,
    "missing_key": _check_missing_key,
    "not_utf8": _check_not_utf8,
    "410": _check_json_error(410),
}


@pytest.mark.parametrize("kind", sorted(FAULT_CHECKS))
def test_fault_responses(fresh, kind):
    fresh.faults.queue(kind, count=1, path_contains="/chats/messages")
    assert call(fresh, "/tickets", phone=None).status_code == 200  # path filter: not consumed here
    FAULT_CHECKS[kind](call(fresh, "/chats/messages", offset=10, limit=5))
    normal = call(fresh, "/chats/messages", offset=10, limit=5)
    assert normal.status_code == 200 and normal.json()["count"] == 5
    assert fresh.faults.served == {kind: 1}
    assert fresh.stats()["faults_served"] == {kind: 1}


@pytest.mark.parametrize("kind", ["reset", "truncated"])
def test_connection_faults(fresh, kind):
    fresh.faults.queue(kind)
    with pytest.raises(requests.exceptions.RequestException):
        call(fresh, "/chats/messages", limit=50).json()
    assert call(fresh, "/chats/messages", limit=5).status_code == 200
    assert fresh.faults.served[kind] == 1
    assert fresh.request_log[0][4] == (0 if kind == "reset" else 200)


def test_slow_fault(fresh):
    fresh.faults.slow_seconds = 0.4
    fresh.faults.queue("slow")
    started = time.perf_counter()
    assert call(fresh, "/chats/messages", limit=5).status_code == 200
    assert time.perf_counter() - started >= 0.4
    with pytest.raises(requests.exceptions.Timeout):
        fresh.faults.queue("slow")
        requests.get(fresh.base_url + "/tickets", headers={"Authorization": "Bearer test-api-key"}, timeout=0.1)


def test_ignore_offset_fault(fresh):
    first_page = call(fresh, "/chats/messages", limit=5).json()
    fresh.faults.queue("ignore_offset")
    assert call(fresh, "/phones/all", phone=None).status_code == 200  # not a paginated list: not consumed
    assert call(fresh, "/chats/messages", offset=10, limit=5).json() == first_page
    assert call(fresh, "/chats/messages", offset=10, limit=5).json()["from"] == 11


def test_random_faults_at_a_rate_are_seeded():
    def statuses(seed):
        faults = FaultSettings(rate=0.5, kinds=["500", "503"], seed=seed)
        with FakePeriskope(faults=faults, now=PINNED_NOW).start() as srv:
            return [call(srv, "/tickets", phone=None, limit=1).status_code for _ in range(20)]

    first = statuses(3)
    assert first == statuses(3)
    assert {200, 500, 503} >= set(first) and 200 in first and set(first) - {200}


def test_every_fault_kind_is_covered():
    assert set(FAULT_CHECKS) | {"reset", "truncated", "slow", "ignore_offset"} == set(ALL_KINDS)
