"""Where a phone-scoped stream's history really begins, found with a few one-record requests.

With no start_date a first sync (or a full refresh) would walk every window since 2009, one request each, mostly
empty. Instead the connector asks, for each number, "is there any record between A and B?" with limit=1 and
halves the range: about eight requests find the month of the oldest record, and reading starts there. Any failure
keeps the configured start, so this can only save requests, never skip a record.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional

from source_periskope.api import ApiProblem, get
from source_periskope.config import PHONES_KEY, STATE_DATETIME_FORMAT

logger = logging.getLogger("airbyte")

PATHS = {
    "chats": "/chats",
    "messages": "/chats/messages",
    "notifications": "/chats/notifications",
    "notes": "/note",
    "reactions": "/reactions",
}
PRECISION = timedelta(days=7)
MARGIN = timedelta(days=1)


def _parse(text: str) -> datetime:
    return datetime.strptime(text, STATE_DATETIME_FORMAT).replace(tzinfo=timezone.utc)


def _has_records(config: Mapping[str, Any], path: str, phone: str, start: datetime, end: datetime) -> bool:
    response = get(config, path, phone=phone, offset=0, limit=1,
                   start_time=start.strftime(STATE_DATETIME_FORMAT), end_time=end.strftime(STATE_DATETIME_FORMAT))
    if response.status_code != 200:
        raise ApiProblem(f"HTTP {response.status_code}")
    body = response.json()
    if isinstance(body, list):
        return bool(body)
    return any(isinstance(value, list) and value for value in body.values())


def oldest_record_time(config: Mapping[str, Any], path: str, phone: str, start: datetime, end: datetime) -> Optional[datetime]:
    """The start of a PRECISION-wide range holding the oldest record in [start, end], or None if there is none."""
    if not _has_records(config, path, phone, start, end):
        return None
    low, high = start, end  # invariant: [low, high] holds a record and nothing before low does
    while high - low > PRECISION:
        middle = low + (high - low) / 2
        try:
            found = _has_records(config, path, phone, low, middle)
        except Exception:  # keep what is known: nothing before `low`
            return low
        if found:
            high = middle
        else:
            low = middle
    return low


def history_start(config: Mapping[str, Any], stream: str, start_text: str, now: datetime) -> str:
    """The latest safe start for `stream` across every configured number (the configured start if unsure)."""
    path = PATHS[stream]
    start = _parse(start_text)
    oldest = []
    try:
        for phone in config[PHONES_KEY]:
            found = oldest_record_time(config, path, phone, start, now)
            oldest.append(found if found is not None else now)
    except Exception as problem:  # an optimisation only: whatever goes wrong, read from the configured start
        logger.info(f"Stream {stream}: could not find where its history begins ({type(problem).__name__}); reading from {start_text}.")
        return start_text
    begin = max(start, min(oldest) - MARGIN)
    if begin > start:
        logger.info(f"Stream {stream}: no records before {begin:%Y-%m-%d}; reading from there.")
    return begin.strftime(STATE_DATETIME_FORMAT)


def skip_empty_history(config: Mapping[str, Any], streams: Iterable[str]) -> None:
    """Moves start_date_by_stream forward to where each listed phone-scoped stream's records begin."""
    now = datetime.now(timezone.utc)
    for stream in streams:
        if stream in PATHS:
            config["start_date_by_stream"][stream] = history_start(config, stream, config["start_date_by_stream"][stream], now)
