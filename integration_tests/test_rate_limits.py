"""The real CLI against a fake server that enforces a request quota: the pace keeps 429s rare.

The fake's quota is a fixed window per API key (integration_tests/fake_periskope/quota.py); these tests shorten its
window to a few seconds so that a whole multi-number sync meets it several times in under a minute. The last test
drives the Pacer from eight threads against the same quota model, without the CLI, to hit a window boundary with
every thread waiting at once.
"""

import threading
import time

import pytest

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.fake_periskope.quota import Quota
from integration_tests.support.connector import configured_catalog, run
from integration_tests.support.servers import connector_config
from source_periskope.pacing import Pacer
from unit_tests.stream_table import NAMES, key, keys_of


def read_all(config, streams=None):
    discovered = run("discover", config)
    assert discovered.returncode == 0, discovered.output
    catalog = configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], "full_refresh", streams)
    result = run("read", config, catalog=catalog)
    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    return result


@pytest.mark.parametrize("quota, reset_format, retry_after, streams", [
    (40, "seconds", False, None),  # Reset as seconds to wait, no Retry-After: the hardest case
    (15, "epoch_ms", True, ["tickets", "contacts", "messages"]),
])
def test_a_multi_number_sync_under_a_quota_meets_fewer_than_one_percent_429s(quota, reset_format, retry_after, streams):
    with FakePeriskope(seed=5, connected_phones=3, quota_per_minute=quota, quota_reset_format=reset_format,
                       quota_retry_after=retry_after).start() as server:
        server.quota.window_seconds = 4  # `quota` requests per 4 seconds
        result = read_all(connector_config(server, page_size=100), streams)
        stats = server.stats()

    assert stats["quota_429s"] < 0.01 * stats["requests"], stats["by_status"]
    assert stats["requests"] > 3 * quota  # the quota was met several times
    for stream in streams or NAMES:
        assert {key(stream, r) for r in result.records(stream)} == keys_of(stream, server.records(stream)), stream



@pytest.mark.parametrize("reset_format, model", [("epoch_down", "fixed_window"), ("seconds", "token_bucket")])
def test_a_quota_the_probes_alone_exceed_costs_no_request_more_than_the_sync_without_it(reset_format, model):
    """Three numbers, every stream, 20 requests per 4-second window (the read plan's probes alone need more than
    one): the sync makes the requests it makes without a quota, at most 2% more, and meets almost no 429."""
    with FakePeriskope(seed=5, connected_phones=3, rate_limit_per_minute=10**9).start() as server:
        config = connector_config(server, page_size=100)
        read_all(config)
        needed = server.stats()["requests"]
        server.reset_counts()
        server.quota_per_minute, server.quota_reset_format, server.quota_model = 20, reset_format, model
        server.quota.window_seconds = 4
        result = read_all(config)
        stats = server.stats()

    answered = stats["requests"] - stats["quota_429s"]
    assert stats["quota_429s"] < 0.01 * stats["requests"], stats["by_status"]
    assert answered <= 1.02 * needed, (answered, needed)
    for stream in NAMES:
        assert {key(stream, r) for r in result.records(stream)} == keys_of(stream, server.records(stream)), stream

def test_threads_sharing_a_key_wait_together_across_a_window_boundary(monkeypatch):
    """Eight threads at once against the fake's quota model, four requests per two-second window, three of them left: those that find
    the window spent wait for its end together, and the first answers of the next window bind them all (a waiting
    thread that started "its" new window again would forget those answers and overrun it)."""
    quota, pacer, threads = Quota(per_minute=4, reset_format="epoch_ms"), Pacer(), 8
    sleeps = []
    monkeypatch.setattr("source_periskope.pacing.sleep", lambda seconds: sleeps.append(seconds) or time.sleep(seconds))
    quota.window_seconds = 2
    allowed, headers = quota.admit("key")  # a first request tells the pace the quota, as a sync's check does
    pacer.observe(None, 200, headers)
    start = threading.Barrier(threads)

    def one_request():
        start.wait()
        number = pacer.wait_turn(patience=30)
        allowed, headers = quota.admit("key")
        time.sleep(0.02)  # the answer travels back while other threads ask for their turn
        pacer.observe(number, 200 if allowed else 429, headers)

    workers = [threading.Thread(target=one_request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert not any(worker.is_alive() for worker in workers)
    assert quota.rejected == 0
    assert sum(1 for seconds in sleeps if seconds <= 0) <= threads  # they slept until their turn, not spun


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_late_answer_from_the_previous_window_does_not_end_the_current_one(monkeypatch):
    """The fake's quota with Reset as whole seconds to wait: the last request of a window is answered after the next
    window has begun, saying "0 left, reset in 1 s". That speaks of the old window; the new one still ends in 60 s."""
    clock = Clock(1000.0)
    monkeypatch.setattr("source_periskope.pacing.time", clock)
    monkeypatch.setattr("source_periskope.pacing.sleep", clock.sleep)
    quota, pacer = Quota(per_minute=5, clock=clock.time), Pacer()

    def send():
        number = pacer.wait_turn()
        allowed, headers = quota.admit("key")
        return number, 200 if allowed else 429, headers

    for _ in range(4):  # the window from 1000 to 1060
        pacer.observe(*send())
    clock.now = 1059.5
    late = send()  # the window's fifth request, answered late
    clock.now = 1060.1
    for _ in range(4):  # the next window, until 1120.1
        pacer.observe(*send())
    clock.now += 0.5
    pacer.observe(*late)
    answers = [send() for _ in range(3)]  # three workers at once: one request is left in this window
    for answer in answers:
        pacer.observe(*answer)

    assert quota.rejected == 0



def send_from_threads(pacer, quota, threads=4, each=6):
    """`threads` workers sharing one key, each sending `each` requests as soon as the pace lets it (real time)."""
    def worker():
        for _ in range(each):
            number = pacer.wait_turn(patience=30)
            allowed, headers = quota.admit("key")
            time.sleep(0.01)  # the answer travels back
            pacer.observe(number, 200 if allowed else 429, headers)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in workers)


def test_a_reset_written_as_a_whole_epoch_second_rounded_down_releases_no_request_early():
    """The window really ends up to a second after the Reset written: a pace that released the waiting requests at
    the written second met a 429 for each of them, at every window."""
    quota, pacer = Quota(per_minute=5, reset_format="epoch_down"), Pacer()
    quota.window_seconds = 1

    send_from_threads(pacer, quota)  # 24 requests, five windows

    assert quota.rejected == 0


def test_a_429_after_a_predicted_reset_teaches_the_pace_how_late_the_server_resets():
    """The server's clock is 1.5 s behind ours: each two-second window ends 1.5 s after the Reset it writes (to the
    millisecond). The first windows' ends meet a 429 or two; later windows none."""
    quota, pacer = Quota(per_minute=5, reset_format="epoch_ms", clock=lambda: time.time() - 1.5), Pacer()
    quota.window_seconds = 2

    send_from_threads(pacer, quota, each=3)  # three windows
    first_windows = quota.rejected
    send_from_threads(pacer, quota, each=4)  # three more

    assert first_windows <= 3
    assert quota.rejected == first_windows


def test_a_token_bucket_meets_no_429():
    quota, pacer = Quota(per_minute=5, reset_format="seconds", model="token_bucket"), Pacer()
    quota.window_seconds = 1  # five tokens a second, five at most

    send_from_threads(pacer, quota)

    assert quota.rejected == 0


def test_once_the_answers_show_a_token_bucket_an_empty_bucket_lets_one_request_go_per_token():
    """The fake's token bucket, ten tokens refilled in 60 s, Reset = when it is full again. After the first empty
    bucket's wait, an answer reporting nine left with a Reset 6 s away (a fixed window would have begun a whole window
    later) shows the bucket: when it is empty again, each request waits the refill of one token (Reset / Limit,
    about 6 s), not until the bucket is full (60 s), and meets no 429."""
    clock = Clock(1000.0)
    waits = []
    pacing = "source_periskope.pacing"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(f"{pacing}.time", clock)
        patch.setattr(f"{pacing}.sleep", lambda seconds: waits.append(seconds) or clock.sleep(seconds))
        quota, pacer = Quota(per_minute=10, model="token_bucket", clock=clock.time), Pacer()
        for _ in range(20):  # the whole bucket, a wait until it is full, the whole bucket again
            number = pacer.wait_turn()
            allowed, headers = quota.admit("key")
            pacer.observe(number, 200 if allowed else 429, headers)
        waits.clear()
        started = clock.now
        for _ in range(5):  # the bucket is empty: five more requests
            number = pacer.wait_turn()
            allowed, headers = quota.admit("key")
            pacer.observe(number, 200 if allowed else 429, headers)

    assert quota.rejected == 0
    assert clock.now - started <= 5 * 6 * 1.05, waits  # one token's refill each, not a full bucket's


def paced_requests(pacer, quota, clock, count):
    """`count` requests one after another on simulated time; the waits each took."""
    waits = []
    for _ in range(count):
        started = clock.now
        number = pacer.wait_turn()
        allowed, headers = quota.admit("key")
        pacer.observe(number, 200 if allowed else 429, headers)
        waits.append(clock.now - started)
    return waits


@pytest.mark.parametrize("reset_format", ["seconds", "epoch_down"])
def test_a_fixed_window_whose_remaining_rises_at_its_reset_is_not_taken_for_a_token_bucket(monkeypatch, reset_format):
    """A window barely used (Remaining 7), then the next window's answers (Remaining 9): Remaining rose, as in a
    bucket, but the Reset moved a whole window later. Once that window is spent the pace waits for its reset; taking it
    for a bucket would send a request every 6 s into the spent window, a 429 each."""
    clock = Clock(1000.0)
    monkeypatch.setattr("source_periskope.pacing.time", clock)
    monkeypatch.setattr("source_periskope.pacing.sleep", clock.sleep)
    quota, pacer = Quota(per_minute=10, reset_format=reset_format, clock=clock.time), Pacer()

    paced_requests(pacer, quota, clock, 3)
    clock.now = 1065.0  # that window ended at 1060
    paced_requests(pacer, quota, clock, 13)  # the whole next window (until 1125), then three more

    assert quota.rejected == 0
    assert clock.now >= 1125


def test_a_429_while_pacing_a_token_bucket_ends_that_pace(monkeypatch):
    """Taken for a bucket, the key turns out to have a fixed window (here the server changes its model): the first
    request sent one token's refill after the window was spent meets a 429, and from then on the pace waits for the
    Reset, so the windows after it meet none."""
    clock = Clock(1000.0)
    monkeypatch.setattr("source_periskope.pacing.time", clock)
    monkeypatch.setattr("source_periskope.pacing.sleep", clock.sleep)
    quota, pacer = Quota(per_minute=10, model="token_bucket", clock=clock.time), Pacer()

    paced_requests(pacer, quota, clock, 20)  # a full bucket, its refill, and a second one: the bucket is shown
    quota.model = "fixed_window"
    quota.reset()
    paced_requests(pacer, quota, clock, 35)  # more than three windows

    assert quota.rejected == 1
