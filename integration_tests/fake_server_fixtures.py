"""Fixtures and helpers shared by the fake Periskope server's own tests (integration_tests/test_fake_*.py).

Not a test module. A test file imports the fixtures it uses by name, e.g.

    from integration_tests.fake_server_fixtures import PINNED_NOW, call, records_of, server  # noqa: F401  (fixture)

`server` is one read-only server per test module (seed 42); tests that change
data use `fresh` (seed 7, one per test). Both pin `now`, so records are the
same on every run.
"""

import pytest
import requests

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.fake_periskope.timefmt import parse_record_ts

PINNED_NOW = "2025-06-01T12:00:00Z"


def call(server, path, phone="first", key=None, **params):
    """A GET with the server's API key and, by default, its first phone as x-phone (phone=None: no x-phone)."""
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    if phone == "first":
        phone = server.phones[0]["number"]
    if phone:
        headers["x-phone"] = phone
    return requests.get(server.base_url + path, headers=headers, params=params, timeout=10)


def records_of(response, key):
    assert response.status_code == 200, response.text
    return response.json()[key]


def times(records, field):
    return [parse_record_ts(r[field]) for r in records]


@pytest.fixture(scope="module")
def server():
    """A shared, read-only server (tests that change data use `fresh`)."""
    with FakePeriskope(seed=42, now=PINNED_NOW).start() as running:
        yield running


@pytest.fixture
def fresh():
    with FakePeriskope(seed=7, now=PINNED_NOW).start() as running:
        yield running
