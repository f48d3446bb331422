"""What a response says about waiting, read one way for every request (the streams, check, the probes).

Periskope declares X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset on its responses but documents
neither their numbers nor the unit of Reset, nor whether Retry-After is sent (contract, section 3). So every
plausible form is read:
- Retry-After: seconds, or an HTTP date;
- X-RateLimit-Reset: an epoch time in seconds, an epoch time in milliseconds, or a number of seconds to wait.
A Reset in whole seconds is read as the end of that second: most servers round the window's end down when they
write it, so the window really ends up to a second later (released at the rounded value, the requests waiting for it
met a 429 each). A 429 whose headers still report quota left (a burst or per-endpoint limiter, while the window is
far from spent) asks for no wait until Reset: it is retried after a short backoff.
Callers differ only in patience: check must answer within seconds, a sync may wait minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Mapping, Optional

# A Reset above this is an epoch time in seconds (2001 onwards), above the second an epoch time in milliseconds;
# below, a number of seconds to wait (a window of up to 31 years would not be meant).
EPOCH_SECONDS_FROM = 1_000_000_000
EPOCH_MILLISECONDS_FROM = 100_000_000_000


def seconds_from_retry_after(value: str, now: float) -> Optional[float]:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError, IndexError):
        return None


def seconds_until_reset(value: str, now: float) -> Optional[float]:
    """The seconds until an X-RateLimit-Reset, whichever of its plausible units it is in; None if not a number.
    A whole number of seconds (epoch or to wait) means the end of that second (the module docstring says why)."""
    try:
        reset = float(value)
    except ValueError:
        return None
    if reset >= EPOCH_MILLISECONDS_FROM:
        return reset / 1000 - now
    whole_second = 1.0 if value.strip().isdigit() else 0.0
    if reset >= EPOCH_SECONDS_FROM:
        return reset + whole_second - now
    return reset + whole_second


def seconds_from_header(headers: Mapping[str, str], now: float) -> Optional[float]:
    """Retry-After, if sent and readable."""
    retry_after = headers.get("Retry-After")
    return seconds_from_retry_after(retry_after, now) if retry_after else None


def reports_quota_left(headers: Mapping[str, str]) -> bool:
    """Whether the X-RateLimit-Remaining of a response says requests are left."""
    try:
        return int(float(headers.get("X-RateLimit-Remaining", ""))) > 0
    except ValueError:
        return False


def wait_from_headers(status: int, headers: Mapping[str, str], now: float) -> Optional[float]:
    """How long the response asks to wait, or None (then the caller's short backoff). Retry-After wherever it is
    sent; X-RateLimit-Reset only on a 429 that reports nothing left, since every response carries it; a Reset
    already past asks for nothing."""
    wait = seconds_from_header(headers, now)
    if wait is not None:
        return wait
    if status == 429 and headers.get("X-RateLimit-Reset") and not reports_quota_left(headers):
        wait = seconds_until_reset(headers["X-RateLimit-Reset"], now)
        return wait if wait is not None and wait > 0 else None
    return None


@dataclass(frozen=True)
class QuotaReading:
    """The request quota as one response reports it."""

    limit: Optional[int]
    remaining: int
    resets_in: float  # seconds until the quota is whole again


def quota_reading(headers: Mapping[str, str], now: float) -> Optional[QuotaReading]:
    """The quota the X-RateLimit-* headers report, or None when they are missing or make no sense."""
    try:
        remaining = int(float(headers["X-RateLimit-Remaining"]))
    except (KeyError, ValueError):
        return None
    resets_in = seconds_until_reset(headers.get("X-RateLimit-Reset", ""), now)
    if remaining < 0 or resets_in is None or not 0 <= resets_in <= 24 * 3600:
        return None
    try:
        limit: Optional[int] = int(float(headers["X-RateLimit-Limit"]))
    except (KeyError, ValueError):
        limit = None
    return QuotaReading(limit if limit and limit > 0 else None, remaining, resets_in)
