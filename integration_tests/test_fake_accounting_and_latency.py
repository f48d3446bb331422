"""The fake Periskope server's request accounting (request_log, request_count,
reset_counts), and its latency with concurrent requests.

Run: .venv/bin/python -m pytest integration_tests/test_fake_accounting_and_latency.py -q
"""

import threading
import time

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.fake_server_fixtures import PINNED_NOW, call, fresh  # noqa: F401  (fixtures)


# -- request accounting -------------------------------------------------------------------
def test_request_counting(fresh):
    first, second = fresh.phones[0], fresh.phones[1]
    call(fresh, "/chats/messages", limit=1)
    call(fresh, "/chats/messages", phone=second["number"], limit=1)
    call(fresh, "/tickets", phone=None)
    call(fresh, "/chats/messages", phone=None)
    assert fresh.request_count() == 4
    assert fresh.request_count("/chats/messages") == 3
    assert fresh.request_count("chats/messages", phone=first["number"]) == 1
    assert fresh.request_count("/v1/chats/messages", phone=second["phone_id"]) == 1
    method, path, query, x_phone, status = fresh.request_log[0]
    assert (method, path, query, x_phone, status) == ("GET", "/chats/messages", {"limit": "1"}, first["number"], 200)
    assert fresh.request_log[-1][4] == 422
    fresh.reset_counts()
    assert fresh.request_count() == 0 and fresh.request_log == []


# -- latency ----------------------------------------------------------------------------
def test_latency_and_concurrency():
    with FakePeriskope(latency_ms=500, now=PINNED_NOW).start() as srv:
        results = []

        def fetch():
            results.append(call(srv, "/tickets", phone=None, limit=1).status_code)

        started = time.perf_counter()
        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        assert results == [200] * 4
        assert 0.5 <= elapsed < 1.5  # in parallel, each after its 500 ms (one after another would take 2 s)
