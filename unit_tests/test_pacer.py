"""The Pacer on its own: worker threads that share one API key share one quota.

A small server model stands in for Periskope: a fixed window of WINDOW_SECONDS per key that allows QUOTA requests,
answering each with truthful X-RateLimit-* headers (Reset in epoch milliseconds) and 429 once the window is spent.
The mock-server tests (mock_server/test_pacing.py) cover the header forms through a real read; this shows the
threads: requests in flight count against the quota before their answers arrive.
"""

import threading
import time

from source_periskope.pacing import Pacer

REAL_SLEEP = time.sleep  # unit_tests/conftest.py makes time.sleep return at once; these threads must really wait

QUOTA = 4
WINDOW_SECONDS = 2.0
THREADS = 2 * QUOTA


class FixedWindowQuota:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.window_ends = time.time() + WINDOW_SECONDS
        self.used = 0
        self.answered_429 = 0
        self.sent_per_window = {}

    def answer(self):
        with self._lock:
            now = time.time()
            while now >= self.window_ends:
                self.window_ends += WINDOW_SECONDS
                self.used = 0
            self.used += 1
            window = round(self.window_ends / WINDOW_SECONDS)
            self.sent_per_window[window] = self.sent_per_window.get(window, 0) + 1
            status = 200 if self.used <= QUOTA else 429
            self.answered_429 += status == 429
            headers = {
                "X-RateLimit-Limit": str(QUOTA),
                "X-RateLimit-Remaining": str(max(0, QUOTA - self.used)),
                "X-RateLimit-Reset": str(int(self.window_ends * 1000)),
            }
        REAL_SLEEP(0.02)  # the answer travels back while other threads ask for their turn
        return status, headers


def test_threads_sharing_a_key_keep_within_its_quota(monkeypatch):
    monkeypatch.setattr("source_periskope.pacing.sleep", REAL_SLEEP)
    server, pacer = FixedWindowQuota(), Pacer()
    status, headers = server.answer()  # a first request tells the pace the quota
    pacer.observe(None, status, headers)
    start = threading.Barrier(THREADS)

    def one_request():
        start.wait()
        number = pacer.wait_turn(patience=30)
        pacer.observe(number, *server.answer())

    threads = [threading.Thread(target=one_request) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert server.answered_429 == 0
    assert max(server.sent_per_window.values()) <= QUOTA
    assert sum(server.sent_per_window.values()) == THREADS + 1
