"""How far the API's clock runs behind the connector's, from the Date header of the API's answers.

The state is kept below the sync's start less SETTLE_MARGIN (read_plan.py), so a record changed while its page had
already been read is read again by the next sync. The change is dated by the API's clock: if that clock runs behind
the connector's, the margin shrinks by as much, and past it the change falls below the state and is never read. So
the bound is min(connector's now, API's now) - SETTLE_MARGIN: the connector's bound less the largest lag an answer of
this sync showed.

Every answer is measured, at no cost: the phone lookup and the probes (api.get) and every page of the streams
(PacedBearerAuthenticator), so an answer always precedes a checkpoint that could use it. Date has whole seconds and
comes before the body, so the lag is taken as received-time less (Date + 1 s), in whole seconds, counted from one
second up: a clock on time shows no lag; network time and a slow body can only make the lag look larger, which lowers
the state (more read again), never raises it. INFERRED: the Date comes from the API's clock, not from a proxy's.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Dict, Mapping, Optional


class ServerClock:
    """The largest lag of the API's clock behind the connector's that this sync's answers showed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._behind_seconds = 0

    def observe(self, headers: Mapping[str, str], received_at: Optional[float] = None) -> None:
        try:
            said = parsedate_to_datetime(headers["Date"]).timestamp()
        except (KeyError, TypeError, ValueError, IndexError, OverflowError):
            return  # no Date, or one that is not an HTTP date: nothing learnt
        lag = math.floor((time.time() if received_at is None else received_at) - (said + 1))
        if lag > self._behind_seconds:
            with self._lock:
                self._behind_seconds = max(self._behind_seconds, lag)

    def behind(self) -> timedelta:
        return timedelta(seconds=self._behind_seconds)

    def start_sync(self) -> None:
        with self._lock:
            self._behind_seconds = 0


_CLOCKS: Dict[str, ServerClock] = {}
_CLOCKS_LOCK = threading.Lock()


def clock_for(base_url: str) -> ServerClock:
    """The one clock of an API host in this process."""
    with _CLOCKS_LOCK:
        return _CLOCKS.setdefault(base_url, ServerClock())
