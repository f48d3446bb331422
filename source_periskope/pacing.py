"""One pace for every request to Periskope in this process, set by the quota its responses report.

Periskope's responses carry X-RateLimit-Limit, -Remaining and -Reset (contract, section 3: numbers and units
undocumented). Waiting out each 429 in the thread that got it keeps a sync with several workers, streams and numbers
running into the quota; instead, every request asks the one Pacer of its API key before it is sent: the streams'
requests through PacedBearerAuthenticator (components.py), the check, the phone lookup and the probes through
api.get. The Pacer takes what the window has left to be the lowest Remaining its answers reported, less the requests
sent and not answered yet, and when nothing remains waits for the answers in flight or until the quota resets. So
429s become rare instead of routine; a 429 is still honoured by the retry's backoff, and responses without the
headers (or with values that make no sense) leave requests unpaced, as before.

The CDK's own `api_budget` (HTTPAPIBudget, 7.39) was not enough: it reads Reset only as integer epoch seconds (a
seconds-to-wait value silently disables it, milliseconds raise inside the request), ignores X-RateLimit-Limit,
starts a fixed ten-day window, and does not cover requests made outside the manifest.

Assumed: the quota is per API key, and Reset says when Remaining is whole again (a fixed window). With a token
bucket whose Reset means "full again", the Pacer waits longer than needed but still avoids the 429.
"""

from __future__ import annotations

import threading
import time
from typing import Dict, Mapping, Optional, Tuple

from source_periskope.rate_limits import quota_reading, wait_from_headers

SYNC_PATIENCE_SECONDS = 600.0  # a sync's request waits at most this long for its turn, then goes anyway
SETTLE_SECONDS = 0.05  # after a reset, a moment for the server's clock
POLL_SECONDS = 0.2  # while answers are awaited, how often a waiting request looks again
LOST_AFTER_SECONDS = 300.0  # a request never answered (its connection failed) stops counting as in flight


def sleep(seconds: float) -> None:  # a seam for tests, which record the waits instead of sleeping
    time.sleep(seconds)


class Pacer:
    """The quota of one API key as the responses report it: what the window has left is the lowest Remaining its
    answers reported, less the requests sent and not answered yet. A request goes while that is above zero; else it
    waits for the answers in flight (which may show quota left) or for the window's reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._granted = 0
        self._outstanding: Dict[int, float] = {}  # request number -> when it was let through, until answered
        self._reported: Optional[int] = None  # the lowest Remaining this window's answers reported
        self._resets_at: Optional[float] = None  # epoch seconds; None: no window known
        self._limit: Optional[int] = None
        self._window = 0  # counts the windows this pace has seen begin
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
                if until_reset is None or self._window != awaited_window:  # (re)measure for the window now known
                    until_reset = waited + max(0.0, (self._resets_at or now) - now) + SETTLE_SECONDS
                    awaited_window = self._window
                step = min(POLL_SECONDS if self._outstanding else until_reset - waited, patience - waited)
            step = max(step, 0.0)
            sleep(step)
            waited += step
            with self._lock:
                self.waited_seconds += step
                # The window this request waited for has reset, unless another thread already saw the next one
                # begin (its answers say what is left now). Time may stand still (tests), so count the waits.
                if waited >= until_reset and self._window == awaited_window:
                    self._start_window(None, None)

    def observe(self, number: Optional[int], status: int, headers: Mapping[str, str]) -> None:
        """What a response said about the quota; `number` is what wait_turn returned for its request."""
        now = time.time()
        reading = quota_reading(headers, now)
        with self._lock:
            self._outstanding.pop(number, None)
            if reading is None:
                if status == 429:  # no usable quota headers: hold everyone back as long as the 429 asks
                    wait = wait_from_headers(status, headers, now)
                    if wait is not None and wait > 0:
                        self._start_window(0, now + wait)
                return
            resets_at = now + reading.resets_in
            remaining = 0 if status == 429 else reading.remaining
            if status != 429 and self._resets_at is not None and resets_at < self._resets_at - 1:
                return  # a late answer from a window that has reset since: it says nothing about this one
            if self._resets_at is None or self._reported is None or resets_at > self._resets_at + 1:
                self._start_window(remaining, resets_at)  # a new window (or the first reading)
            else:
                self._reported = min(self._reported, remaining)  # within a window, the lowest is the latest
                # Answers arrive out of order: the window ends at the latest Reset they report. A 429 may say sooner.
                self._resets_at = resets_at if status == 429 else max(self._resets_at, resets_at)
            self._limit = reading.limit or self._limit

    def release(self, number: Optional[int]) -> None:
        """A request that got no answer (its connection failed, or it is sent again) stops counting as in flight."""
        with self._lock:
            self._outstanding.pop(number, None)

    def _left(self) -> Optional[int]:
        base = self._reported if self._reported is not None else self._limit
        return None if base is None else base - len(self._outstanding)

    def _renew_if_reset(self, now: float) -> None:
        for number in [n for n, at in self._outstanding.items() if now - at > LOST_AFTER_SECONDS]:
            del self._outstanding[number]
        if self._resets_at is not None and now >= self._resets_at + SETTLE_SECONDS:
            self._start_window(None, None)

    def _start_window(self, reported: Optional[int], resets_at: Optional[float]) -> None:
        """A window begins. Unread (None), what is left is the limit if known; else requests go until an answer says."""
        self._reported, self._resets_at = reported, resets_at
        self._window += 1

    def _grant(self, now: float) -> int:
        self._granted += 1
        self._outstanding[self._granted] = now
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
