import logging
import socket
import threading
import time

import pytest
import requests
import requests_mock

from airbyte_cdk.models import Status

from source_periskope import SourcePeriskope
from source_periskope import api as check_module
from unit_tests.mock_server.config import API_KEY, BASE_URL, OTHER_PHONE, PHONE, ConfigBuilder

PHONES = [
    {"org_phone": f"{PHONE}@c.us", "phone_id": "phone-aaaaaaaaaaaaaaaa", "wa_state": "CONNECTED"},
    {"org_phone": f"{OTHER_PHONE}@c.us", "phone_id": "phone-bbbbbbbbbbbbbbbb", "wa_state": "DISCONNECTED"},
]


def run_check(config):
    return SourcePeriskope(config=config).check(logging.getLogger("test"), config)


def test_check_succeeds_with_a_valid_key_and_phone():
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/phones/all", json=PHONES)
        chats = http.get(f"{BASE_URL}/chats", json={"chats": [], "count": 0})
        status = run_check(ConfigBuilder().with_phone_number("+91 98765-43210").build())

    assert status.status == Status.SUCCEEDED
    assert chats.last_request.headers["x-phone"] == PHONE
    assert chats.last_request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_check_names_a_rejected_key():
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/phones/all", status_code=401, json={"message": "Invalid API key"})
        status = run_check(ConfigBuilder().build())

    assert status.status == Status.FAILED
    assert "rejected the API key" in status.message and API_KEY not in status.message


def test_check_names_each_phone_outside_the_organisation():
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/phones/all", json=PHONES)
        http.get(f"{BASE_URL}/chats", [{"json": {"chats": []}}, {"status_code": 401, "json": {}}])
        status = run_check(ConfigBuilder().with_additional_phone_numbers(["447700900123"]).build())

    assert status.status == Status.FAILED
    assert "Phone 447700900123 is not connected to this API key's organisation" in status.message
    assert PHONE in status.message  # lists the numbers the key does see


def test_check_warns_about_a_disconnected_phone_but_succeeds(caplog):
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/phones/all", json=PHONES)
        http.get(f"{BASE_URL}/chats", json={"chats": []})
        status = run_check(ConfigBuilder().with_additional_phone_numbers([OTHER_PHONE]).build())

    assert status.status == Status.SUCCEEDED
    assert f"Phone {OTHER_PHONE} is DISCONNECTED" in caplog.text


def test_check_shows_the_servers_422_message():
    body = {"code": "VALIDATION_ERROR", "message": "Missing Header: {x-phone}", "name": "Validation Error", "status": 422}
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/phones/all", json=PHONES)
        http.get(f"{BASE_URL}/chats", status_code=422, json=body)
        status = run_check(ConfigBuilder().build())

    assert status.status == Status.FAILED and "Missing Header: {x-phone}" in status.message


@pytest.mark.parametrize("phone", ["98765abc10", "12345"])
def test_check_reports_an_invalid_phone_without_any_request(phone):
    with requests_mock.Mocker():  # any request would fail the test
        status = run_check(ConfigBuilder().with_phone_number(phone).build())

    assert status.status == Status.FAILED
    assert status.message.startswith("Invalid configuration: phone_number")


def test_check_reports_an_unreachable_host_quickly():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once the socket closes
    started = time.monotonic()
    status = run_check(ConfigBuilder().with_values(base_url=f"http://127.0.0.1:{port}/v1").build())

    assert status.status == Status.FAILED and "Could not reach Periskope" in status.message
    assert time.monotonic() - started < 30


def test_check_gives_up_on_a_host_that_never_answers(monkeypatch):
    monkeypatch.setattr(check_module, "TIMEOUT_SECONDS", (0.5, 0.5))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    try:
        status = run_check(ConfigBuilder().with_values(base_url=f"http://127.0.0.1:{silent.getsockname()[1]}/v1").build())
    finally:
        silent.close()

    assert status.status == Status.FAILED and "ReadTimeout" in status.message


def test_a_check_request_whose_connection_was_reset_no_longer_counts_against_the_quota(monkeypatch):
    """One request is left in the window; the chats request loses its connection and is tried again: the retry is
    that one request and goes at once, instead of waiting for the reset as if the lost attempt were in flight."""
    waits = []
    monkeypatch.setattr("source_periskope.pacing.sleep", waits.append)
    quota = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "30"}
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/phones/all", json=PHONES, headers=quota)
        chats = http.get(f"{BASE_URL}/chats", [
            {"exc": requests.exceptions.ConnectionError("Connection reset by peer")},
            {"json": {"chats": [], "count": 0}},
        ])
        status = run_check(ConfigBuilder().build())

    assert status.status == Status.SUCCEEDED
    assert chats.call_count == 2
    assert sum(waits) == 0
