"""One-record requests (`limit=1`) that tell where a phone-scoped stream's records are, before its windows are read.

- `newest_cursor`: the newest record between two times (the API lists newest first), so a sync can tell that
  nothing is new since the saved state with one request.
- `history_begin`: where the history of a number begins. Asking "is there any record between A and B?" and
  halving the range, about ten requests find the week of the oldest record, so a first sync does not walk every
  empty window since 2009. One more bounded request confirms the answer before anything is skipped: an empty
  history must also look empty in the most recent window, and the stretch just before the first record must look
  empty too; when the answers disagree, reading starts at the configured start. Any failure does the same (the
  caller's job), so the probes can only save requests, never skip a record.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, List, Mapping, Optional

from source_periskope.api import ApiProblem, get, records_of
from source_periskope.config import STATE_DATETIME_FORMAT
from source_periskope.normalize import NotATimestamp, normalize_timestamp
from source_periskope.stream_facts import StreamFacts

PRECISION = timedelta(days=7)  # the bisection stops at a range this wide
MARGIN = timedelta(days=1)  # reading starts this long before the range holding the oldest record
ONE_SECOND = timedelta(seconds=1)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()  # a record whose cursor cannot be read: treated as new


def _page(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: datetime, end: datetime) -> List[Any]:
    response = get(
        config, stream.api_path, phone=phone, offset=0, limit=1,
        start_time=start.strftime(STATE_DATETIME_FORMAT), end_time=(end + ONE_SECOND).strftime(STATE_DATETIME_FORMAT),
    )
    if response.status_code != 200:
        raise ApiProblem(f"HTTP {response.status_code} from {stream.api_path}")
    return records_of(response, stream.records_keys)


def newest_cursor(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: datetime, end: datetime) -> Any:
    """The cursor of the newest record in [start, end]: a datetime, None if there is none, or UNKNOWN."""
    records = _page(config, stream, phone, start, end)
    if not records:
        return None
    value = records[0].get(stream.cursor_field) if isinstance(records[0], dict) else None
    try:
        return datetime.fromisoformat(normalize_timestamp(value)) if isinstance(value, str) else UNKNOWN
    except (NotATimestamp, ValueError):
        return UNKNOWN


def _has_records(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: datetime, end: datetime) -> bool:
    return bool(_page(config, stream, phone, start, end))


def oldest_record_week(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: datetime, end: datetime) -> Optional[datetime]:
    """The start of a PRECISION-wide range holding the oldest record in [start, end], or None if there is none."""
    if not _has_records(config, stream, phone, start, end):
        return None
    low, high = start, end  # invariant: [low, high] holds a record and, as far as the API said, nothing before low does
    while high - low > PRECISION:
        middle = low + (high - low) / 2
        if _has_records(config, stream, phone, low, middle):
            high = middle
        else:
            low = middle
    return low


def history_begin(
    config: Mapping[str, Any], stream: StreamFacts, phone: str, start: datetime, now: datetime
) -> Optional[datetime]:
    """Where reading this number's history starts (never before `start`); None when it has no records at all."""
    oldest = oldest_record_week(config, stream, phone, start, now)
    window = timedelta(days=config["window_days"])
    if oldest is None:
        recent_start = max(start, now - window)
        return start if _has_records(config, stream, phone, recent_start, now) else None
    begin = max(start, oldest - MARGIN)
    if begin > start and _has_records(config, stream, phone, max(start, begin - window), begin):
        return start  # the stretch the bisection would skip is not empty after all
    return begin
