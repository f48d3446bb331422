"""One pace for every request to Periskope in this process, set by the quota its responses report.

Periskope's responses carry X-RateLimit-Limit, -Remaining and -Reset (contract, section 3: numbers and units
undocumented). Waiting out each 429 in the thread that got it keeps a sync with several workers, streams and numbers
running into the quota; instead, every request asks the one Pacer of its API key before it is sent: the streams'
requests through PacedBearerAuthenticator (components.py), the check, the phone lookup and the probes through
api.get. The Pacer counts down what the last response said remains, less the requests sent since that one, and when
nothing remains waits until the quota resets. So 429s become rare instead of routine; a 429 is still honoured by the
retry's backoff, and responses without the headers (or with values that make no sense) leave requests unpaced, as
before.

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


def sleep(seconds: float) -> None:  # a seam for tests, which record the waits instead of sleeping
    time.sleep(seconds)


class Pacer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._granted = 0  # requests let through so far
        self._remaining: Optional[int] = None  # what the quota has left for requests not yet sent; None: unknown
        self._resets_at: Optional[float] = None  # epoch seconds
        self._limit: Optional[int] = None
        self.waited_seconds = 0.0  # in all, for the log at the end of a sync

    def wait_turn(self, patience: float = SYNC_PATIENCE_SECONDS) -> int:
        """Blocks until a request may be sent (at most `patience` seconds); returns the request's number."""
        with self._lock:
            wait = self._wait_needed(time.time())
            if wait <= 0:
                return self._grant()
        wait = min(wait, patience)
        sleep(wait)
        with self._lock:
            self.waited_seconds += wait
            if self._resets_at is not None and wait >= self._resets_at - time.time() - SETTLE_SECONDS:
                self._renew()  # the window this thread waited for has reset (whoever woke first renews it)
            return self._grant()

    def observe(self, number: Optional[int], status: int, headers: Mapping[str, str]) -> None:
        """What a response said about the quota; `number` is what wait_turn returned for its request."""
        now = time.time()
        reading = quota_reading(headers, now)
        with self._lock:
            if reading is None:
                if status == 429:  # no usable quota headers: hold everyone back as long as the 429 asks
                    wait = wait_from_headers(status, headers, now)
                    if wait is not None and wait > 0:
                        self._remaining, self._resets_at = 0, now + wait
                return
            sent_since = self._granted - number if number is not None else 0
            remaining = max(0, reading.remaining - sent_since) if status != 429 else 0
            resets_at = now + reading.resets_in
            if self._resets_at is None or resets_at > self._resets_at + 1 or self._remaining is None:
                self._remaining = remaining  # a new window (or the first reading)
            else:
                self._remaining = min(self._remaining, remaining)
            self._resets_at = resets_at  # the latest answer's reset is the one that counts (a 429's own, for one)
            self._limit = reading.limit or self._limit

    def _wait_needed(self, now: float) -> float:
        if self._resets_at is not None and now >= self._resets_at:
            self._renew()
        if self._remaining is None or self._remaining > 0:
            return 0.0
        return max(0.0, (self._resets_at or now) - now) + SETTLE_SECONDS

    def _renew(self) -> None:
        self._remaining = self._limit  # None when the limit is unknown: requests go until a response tells
        self._resets_at = None

    def _grant(self) -> int:
        self._granted += 1
        if self._remaining is not None:
            self._remaining -= 1
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
