"""One pace for every request to Periskope in this process, set by the quota its responses report.

Periskope's responses carry X-RateLimit-Limit, -Remaining and -Reset (contract, section 3: numbers and units
undocumented). Waiting out each 429 in the thread that got it keeps a sync with several workers, streams and numbers
running into the quota; instead, every request asks the one Pacer of its API key before it is sent: the streams'
requests through PacedBearerAuthenticator (components.py), the check, the phone lookup and the probes through
api.get. The Pacer takes what the window has left to be the lowest Remaining its answers reported, less the requests
sent and not answered yet, and when nothing remains waits for the answers in flight or until the quota resets. So
429s become rare instead of routine; a 429 is still honoured by the retry's backoff, and responses without the
headers (or with values that make no sense) leave requests unpaced, as before.

A reset is a prediction (a Reset rounded, a server clock a little behind ours): when the pace predicts one, a
single request goes first and the others wait for its answer, so a wrong prediction costs one 429, not one per
waiting request. A 429 met that way teaches the pace that the server resets later than it writes (`_lag`, added to
every later Reset). What a 429 does to the key depends on what it says: Retry-After holds every request for that
long; Remaining 0 (or no readable quota) holds them until Reset; a 429 that still reports quota left (a burst or
per-endpoint limiter) holds nothing: only its own retry waits, a short backoff (rate_limits.py).

The CDK's own `api_budget` (HTTPAPIBudget, 7.39) was not enough: it reads Reset only as integer epoch seconds (a
seconds-to-wait value silently disables it, milliseconds raise inside the request), ignores X-RateLimit-Limit,
starts a fixed ten-day window, and does not cover requests made outside the manifest.

Assumed: the quota is per API key, and Reset says when Remaining is whole again (a fixed window). A token bucket
whose Reset means "full again" is paced as one only on strong evidence (`_notice_bucket`): Remaining rose by more
than the requests counted meanwhile could explain, while the Reset moved later by less than a window. Then an empty
bucket lets one request go per token's refill (Reset / Limit) instead of waiting until it is full, which wasted the
last partial bucket of a sync (1.13x the ideal). Misjudging a fixed window as a bucket would cost a 429 per token,
so the evidence is narrow and the first 429 in that mode ends it for good.
"""

from __future__ import annotations

import threading
import time
from typing import Dict, Mapping, Optional, Tuple

from source_periskope.rate_limits import QuotaReading, quota_reading, seconds_from_header, wait_from_headers

SYNC_PATIENCE_SECONDS = 600.0  # a sync's request waits at most this long for its turn, then goes anyway
SETTLE_SECONDS = 0.05  # after a reset, a moment for the server's clock
POLL_SECONDS = 0.2  # while answers are awaited, how often a waiting request looks again
LOST_AFTER_SECONDS = 300.0  # a request never answered (its connection failed) stops counting as in flight
LAG_STEP_SECONDS = 1.0  # what one 429 after a predicted reset adds to the lag of the server's resets
MAX_LAG_SECONDS = 10.0
BUCKET_MARGIN_SECONDS = 3.0  # rounding of Reset (1 s each way) and the answer's travel, when telling a bucket apart


def sleep(seconds: float) -> None:  # a seam for tests, which record the waits instead of sleeping
    time.sleep(seconds)


class Pacer:
    """The quota of one API key as the responses report it: what the window has left is the lowest Remaining its
    answers reported, less the requests sent and not answered yet. A request goes while that is above zero; else it
    waits for the answers in flight (which may show quota left) or for the window's reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._granted = 0
        # request number -> (when let through, window, requests in flight then), until answered
        self._outstanding: Dict[int, Tuple[float, int, int]] = {}
        self._reported: Optional[int] = None  # the lowest Remaining this window's answers reported
        self._resets_at: Optional[float] = None  # epoch seconds; None: no window known
        self._limit: Optional[int] = None
        self._window = 0  # counts the windows this pace has seen begin
        self._predicted = False  # this window began because its reset was due, and no answer has confirmed it yet
        self._lag = 0.0  # how much later than their Reset says the server's windows end, as 429s taught
        self._seen: Optional[Tuple[int, float]] = None  # the last window's lowest Remaining and its reset, kept
        self._longest_reset = 0.0  # the longest Reset read: a fixed window is at least this long
        self._bucket = False  # the answers showed a token bucket (see _notice_bucket)
        self._bucket_refuted = False  # a 429 met while pacing a bucket: wait for Reset from then on
        self._token_wait = False  # the wait under way is one token's refill, not a reset
        self.waited_seconds = 0.0  # in all

    def wait_turn(self, patience: float = SYNC_PATIENCE_SECONDS) -> int:
        """Blocks until a request may be sent (at most `patience` seconds); returns the request's number."""
        waited, until_reset, awaited_window = 0.0, None, -1
        while True:
            with self._lock:
                now = time.time()
                self._renew_if_reset(now)
                left = self._left()
                if left is None or left > 0 or waited >= patience:
                    return self._grant(now)
                if self._resets_at is None:  # a reset predicted: the first request's answer will tell
                    until_reset, step = None, POLL_SECONDS
                else:
                    if until_reset is None or self._window != awaited_window:  # (re)measure for the window now known
                        until_reset = waited + max(0.0, self._resets_at - now) + SETTLE_SECONDS
                        awaited_window = self._window
                    step = POLL_SECONDS if self._outstanding else until_reset - waited
                step = min(step, patience - waited)
            step = max(step, 0.0)
            sleep(step)
            waited += step
            with self._lock:
                self.waited_seconds += step
                # The window this request waited for has reset, unless another thread already saw the next one
                # begin (its answers say what is left now). Time may stand still (tests), so count the waits.
                if until_reset is not None and waited >= until_reset and self._window == awaited_window:
                    self._predict_window()

    def observe(self, number: Optional[int], status: int, headers: Mapping[str, str]) -> None:
        """What a response said about the quota; `number` is what wait_turn returned for its request."""
        now = time.time()
        reading = quota_reading(headers, now)
        with self._lock:
            granted = self._outstanding.pop(number, None)
            if self._predicted and granted is not None and granted[1] < self._window:
                return  # sent before the predicted reset: it says nothing about the window begun since
            if reading is not None:
                self._limit = reading.limit or self._limit
            if status == 429:
                self._rate_limited(granted, reading, headers, now)
                return
            if reading is None:
                if self._predicted and granted is not None:
                    self._predicted = False  # answered, but without a quota: no reason to keep one request at a time
                return
            resets_at = now + reading.resets_in + self._lag
            if self._resets_at is not None and resets_at < self._resets_at - 1:
                return  # a late answer from a window that has reset since: it says nothing about this one
            if self._token_wait and reading.remaining > 0:
                return  # counted before the empty bucket's answer (or a refill the next request will show)
            self._notice_bucket(number, granted, reading, resets_at)
            self._longest_reset = max(self._longest_reset, reading.resets_in)
            limit = reading.limit or self._limit
            if self._bucket and reading.remaining == 0 and limit:
                # An empty bucket: one token comes back within Reset / Limit (Reset is when all Limit are back, and
                # errs late: rounded up, read after the answer's trip). So no settling moment for a server's clock,
                # which the wait adds to every reset (1.55 s instead of 1.5 s a token at 40/min was 3% of the pace).
                self._start_window(0, now + reading.resets_in / limit + self._lag - SETTLE_SECONDS)
                self._token_wait = True
                return
            if self._resets_at is None or self._reported is None or resets_at > self._resets_at + 1:
                self._start_window(reading.remaining, resets_at)  # a new window (or the first reading)
            else:
                self._reported = min(self._reported, reading.remaining)  # within a window, the lowest is the latest
                self._resets_at = max(self._resets_at, resets_at)  # answers arrive out of order: the latest Reset
            self._seen = (self._reported, self._resets_at)

    def _notice_bucket(self, number: Optional[int], granted: Optional[Tuple[float, int, int]],
                       reading: QuotaReading, resets_at: float) -> None:
        """A fixed window gives quota back only at a reset a whole window later; a bucket gives tokens back as time
        passes. So Remaining rising by more than the requests the server may have counted between the two answers
        (those let through after this one, and those in flight when it was), while the Reset moved later by clearly
        less than the longest Reset read (a window is at least that long), can only be a bucket."""
        if self._bucket or self._bucket_refuted or granted is None or number is None or self._seen is None:
            return
        lowest, reset_then = self._seen
        counted_between = (self._granted - number) + granted[2]
        if (reading.remaining - lowest > counted_between
                and resets_at < reset_then + self._longest_reset - BUCKET_MARGIN_SECONDS):
            self._bucket = True

    def _rate_limited(self, granted: Optional[Tuple[float, int, int]], reading: Optional[QuotaReading],
                      headers: Mapping[str, str], now: float) -> None:
        if self._bucket:  # the evidence misled, or the server throttles otherwise too: wait for Reset from now on
            self._bucket, self._bucket_refuted = False, True
        retry_after = seconds_from_header(headers, now)
        if retry_after is not None and retry_after > 0:
            self._start_window(0, now + retry_after)  # the server says how long: every request waits that long
            return
        if reading is not None and reading.remaining > 0:
            return  # quota left: a limiter other than the window; this request alone is retried, after a backoff
        if self._predicted and granted is not None and granted[1] == self._window:
            # The window the pace took to have begun had not: the server resets later than its Reset says.
            self._lag = min(MAX_LAG_SECONDS, self._lag + LAG_STEP_SECONDS)
        wait = reading.resets_in if reading is not None else wait_from_headers(429, headers, now)
        if wait is not None and wait > 0:
            self._start_window(0, now + wait + self._lag)  # nothing left: every request waits for the reset
        elif self._lag:
            self._start_window(0, now + self._lag)

    def release(self, number: Optional[int]) -> None:
        """A request that got no answer (its connection failed, or it is sent again) stops counting as in flight."""
        with self._lock:
            self._outstanding.pop(number, None)

    def _left(self) -> Optional[int]:
        if self._reported is None and self._predicted:
            # A predicted reset: one request first, the others when its answer confirms the window.
            return 1 - sum(1 for _, window, _ in self._outstanding.values() if window == self._window)
        base = self._reported if self._reported is not None else self._limit
        return None if base is None else base - len(self._outstanding)

    def _renew_if_reset(self, now: float) -> None:
        for number in [n for n, (at, _, _) in self._outstanding.items() if now - at > LOST_AFTER_SECONDS]:
            del self._outstanding[number]
        if self._resets_at is not None and now >= self._resets_at + SETTLE_SECONDS:
            self._predict_window()

    def _predict_window(self) -> None:
        """The window's reset is due: a new one begins, unread, until an answer confirms it."""
        self._start_window(None, None)
        self._predicted = True

    def _start_window(self, reported: Optional[int], resets_at: Optional[float]) -> None:
        """A window begins. Unread (None), what is left is the limit if known; else requests go until an answer says."""
        self._reported, self._resets_at = reported, resets_at
        self._window += 1
        self._predicted = False
        self._token_wait = False

    def _grant(self, now: float) -> int:
        self._granted += 1
        self._outstanding[self._granted] = (now, self._window, len(self._outstanding))
        return self._granted


_pacers: Dict[Tuple[str, str], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(base_url: str, api_key: str) -> Pacer:
    """The one Pacer of an API key at a base URL (the quota is per key)."""
    with _pacers_lock:
        return _pacers.setdefault((base_url, api_key), Pacer())


def forget_pacers() -> None:
    """Drops every Pacer (a new sync in the same process, or a test, starts with no quota known)."""
    with _pacers_lock:
        _pacers.clear()
