"""One-record requests (`limit=1`) that tell where a phone-scoped stream's records are, before its windows are read.

- `newest_cursor`: the newest record between two times (the API lists newest first), so a sync can tell that
  nothing is new since the saved state with one request.
- `history_begin`: where the history of a number begins. The first request asks for a whole page of the range:
  if the whole history fits in it (a short page), its oldest record says where to begin, and the stream can be read
  in one window. Otherwise, asking "is there any record between A and B?" (limit=1) and halving the range, about
  ten requests find the week of the oldest record, so a first sync does not walk every empty window since 2009.
  One more bounded request confirms the answer before anything is skipped: an empty history must also look empty in
  the most recent window, and the stretch just before the first record must look empty too; when the answers
  disagree, reading starts at the configured start. Any failure does the same (the caller's job), so the probes can
  only save requests, never skip a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, List, Mapping, Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope import page_sizes
from source_periskope.api import ApiProblem, get, records_of, server_message, sync_patience
from source_periskope.config import ALL_HISTORY_START, STATE_DATETIME_FORMAT
from source_periskope.normalize import NotATimestamp, from_iso, normalize_timestamp
from source_periskope.stream_facts import StreamFacts

PRECISION = timedelta(days=7)  # the bisection stops at a range this wide
MARGIN = timedelta(days=1)  # reading starts this long before the range holding the oldest record
ONE_SECOND = timedelta(seconds=1)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()  # a record whose cursor cannot be read: treated as new


def _page(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: Optional[datetime], end: Optional[datetime], limit: int = 1) -> List[Any]:
    """One page of [start, end] (None: that end is open), newest first. A 422 about `limit` lowers it for the
    endpoint, for the probes and the streams alike (page_sizes.py), and asks again."""
    times = {}
    if start is not None:
        times["start_time"] = start.strftime(STATE_DATETIME_FORMAT)
    if end is not None:
        times["end_time"] = (end + ONE_SECOND).strftime(STATE_DATETIME_FORMAT)
    while True:
        response = get(config, stream.api_path, phone=phone, patience=sync_patience(config), offset=0, limit=limit, **times)
        smaller = page_sizes.learn_from_rejection(response, limit)
        if smaller is not None:
            limit = smaller
            continue
        if response.status_code in (401, 403):
            raise KeyRefused(refusal(response, stream.api_path, phone))
        if response.status_code != 200:
            raise ApiProblem(f"HTTP {response.status_code} from {stream.api_path}")
        return records_of(response, stream.records_keys)


class KeyRefused(AirbyteTracedException):
    """A 401 or 403 to a probe: every request of the sync would get it too. The read plan lets it end the read at
    once as a config error, instead of falling back to reading every window since the start (one failed request
    each: thousands for a first sync)."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message, failure_type=FailureType.config_error)


def refusal(response: Any, path: str, phone: str) -> str:
    if response.status_code == 401:
        return (
            f"Periskope answered 401 Unauthorized to GET {path} for phone {phone}: the API key was rejected (revoked?), "
            "or the number is not in the key's organisation. Check the connection to tell the two apart."
        )
    return f"Periskope refused GET {path} for phone {phone} (403 Forbidden): {server_message(response)}".strip()


def _cursor(record: Any, stream: StreamFacts) -> Any:
    value = record.get(stream.cursor_field) if isinstance(record, dict) else None
    try:
        return from_iso(normalize_timestamp(value)) if isinstance(value, str) else UNKNOWN
    except (NotATimestamp, ValueError):
        return UNKNOWN


def newest_cursor(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: datetime, end: datetime) -> Any:
    """The cursor of the newest record in [start, end]: a datetime, None if there is none, or UNKNOWN."""
    records = _page(config, stream, phone, start, end)
    return _cursor(records[0], stream) if records else None


def _has_records(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: Optional[datetime], end: datetime) -> bool:
    return bool(_page(config, stream, phone, start, end))


@dataclass(frozen=True)
class HistoryStart:
    begin: Optional[datetime]  # where reading starts; None: the number has no records at all
    in_one_page: bool  # the whole history fits in one page: one window reads it


def oldest_record_week(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: datetime, end: datetime) -> datetime:
    """The start of a PRECISION-wide range holding the oldest record of [start, end], which holds records."""
    low, high = start, end  # invariant: [low, high] holds a record and, as far as the API said, nothing before low does
    while high - low > PRECISION:
        middle = low + (high - low) / 2
        if _has_records(config, stream, phone, low, middle):
            high = middle
        else:
            low = middle
    return low


def history_begin(config: Mapping[str, Any], stream: StreamFacts, phone: str, start: datetime, now: datetime) -> HistoryStart:
    """Where reading this number's history starts (never before `start`, never after `now`). From all history's
    start the first request has open ends, as the windows of a full refresh do (the manifest's windowed_requester):
    records dated before 2009 or in the future count too."""
    window = timedelta(days=config["window_days"])
    all_history = start.strftime(STATE_DATETIME_FORMAT) == ALL_HISTORY_START
    limit = page_sizes.page_size_for(config, stream.api_path)
    records = _page(config, stream, phone, None if all_history else start, None if all_history else now, limit=limit)
    limit = page_sizes.page_size_for(config, stream.api_path)  # lowered if the API refused the first
    if not records:
        recent_start = max(start, now - window)
        return HistoryStart(start, False) if _has_records(config, stream, phone, recent_start, now) else HistoryStart(None, False)
    cursors = [_cursor(record, stream) for record in records]
    in_one_page = len(records) < limit and UNKNOWN not in cursors
    if in_one_page:
        begin = min(max(start, min(cursors) - ONE_SECOND), now)
    else:
        begin = max(start, oldest_record_week(config, stream, phone, start, now) - MARGIN)
        if begin > start and all_history and _has_records(config, stream, phone, None, start - ONE_SECOND):
            return HistoryStart(start, False)  # records dated before all history's start: read from it, open
    if begin > start and _has_records(config, stream, phone, max(start, begin - window), begin - ONE_SECOND):
        return HistoryStart(start, False)  # the stretch that would be skipped is not empty after all
    return HistoryStart(begin, in_one_page)
