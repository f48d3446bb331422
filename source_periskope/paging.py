"""Where the next page of a list starts, so that a list that moves while it is read skips nothing.

Periskope pages with `offset`/`limit` only, newest first. An offset counts positions in a list that can change
between two requests: a record that leaves it above the reader (a chat whose new message moves its `updated_at`
past the window, a deleted ticket) moves every later record up one place, and plain offset paging then never sees
the record that crossed the page boundary. So:

- Time-filtered streams (chats, messages, notifications, notes, reactions) page by time: the next page asks for
  the same window with `end_time` at the end of the second of the oldest record read, offset 0. Records leaving or
  entering the list above that point move nothing the reader still has to read. The records of that boundary
  second come again; their keys travel in the page token (`seen`) and the record filter drops them.
  More records in one second than fit in a page (a broadcast) are read by offset within that second alone, in
  passes repeated until a pass finds nothing new (the order inside one second is not documented and may change).
  A page whose order or times do not match the request (the API sorting or filtering on another field than the
  stream's cursor) switches the rest of that window to offset paging, with one warning.
- Tickets and contacts (no time filter) page by offset with an overlap: each page starts OVERLAP records before
  the previous one ended. A page holding one of the previous page's last records continues exactly after it,
  wherever the list moved; a page holding none of them (more than OVERLAP records left the list above, or the list
  shrank below the offset) makes the reader step back a page instead of skipping.

Page tokens are plain JSON-able dicts computed from the page just read and the request that fetched it, never
from state kept on the strategy: the CDK shares one paginator between partitions read at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

from source_periskope.normalize import NotATimestamp, normalize_timestamp

API_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
OVERLAP = 10  # records each offset page repeats from the one before
MAX_TIE_PASSES = 20  # reads of one crowded second, until a pass finds nothing new
MAX_STEPS_BACK = 20  # a list that keeps moving this much is read on with a warning (duplicates, not gaps)

# Modes of a windowed stream's token.
BY_TIME = "time"
IN_ONE_SECOND = "tie"
BY_OFFSET = "offset"


@dataclass(frozen=True)
class PageRequest:
    """What a page's request asked for (read back from its URL, so a token is always relative to what was sent)."""

    offset: int
    limit: int
    start_time: Optional[str]
    end_time: Optional[str]

    @classmethod
    def of(cls, url: str) -> "PageRequest":
        query = parse_qs(urlsplit(url or "").query)

        def one(name: str) -> Optional[str]:
            values = query.get(name)
            return values[0] if values else None

        return cls(int(one("offset") or 0), int(one("limit") or 0), one("start_time"), one("end_time"))


# -- times --------------------------------------------------------------------------------------------------
def moment_of(value: Any) -> Optional[Tuple[str, int]]:
    """A cursor value as (its UTC second as API text without the Z, microseconds); None when it is not a time.

    Most values are already "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00", read here by slicing (a page has 2,000 of them).
    """
    if not isinstance(value, str):
        return None
    if len(value) >= 25 and value[10] in "T " and value.endswith("+00:00"):
        fraction = value[19:-6]
        if not fraction or (fraction[0] == "." and fraction[1:].isdigit() and len(fraction) <= 7):
            return f"{value[:10]}T{value[11:19]}", int((fraction[1:] or "0").ljust(6, "0"))
    try:
        text = normalize_timestamp(value)
    except NotATimestamp:
        return None
    if not text.endswith("+00:00"):
        return None
    fraction = text[19:-6]
    return text[:19], int((fraction[1:] or "0").ljust(6, "0")) if fraction[1:].isdigit() or not fraction else 0


def api_time(second: str) -> str:
    return second + "Z"


def second_after(second: str) -> str:
    moment = datetime.strptime(second, "%Y-%m-%dT%H:%M:%S") + timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def second_of_api_time(text: Optional[str]) -> Optional[str]:
    """'2025-01-01T10:00:00Z' -> '2025-01-01T10:00:00'; a date alone is its first second."""
    if not text:
        return None
    moment = moment_of(text if len(text) > 10 else text + "T00:00:00Z")
    return moment[0] if moment else None


# -- time-filtered streams ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimePage:
    """One page of a time-filtered list, as the next-page rule needs it."""

    request: PageRequest
    cursors: Sequence[Any]  # the records' raw cursor values, in the order received
    keys: Sequence[Any]  # their primary keys (the number is the same for the whole partition)


def next_time_token(page: TimePage, token: Optional[Mapping[str, Any]], limit: int, largest: int) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """(the next page's token or None at the end of the window, a problem to warn about once or None).

    `limit` is the page size for the next page; `largest` the largest the endpoint accepts, for one crowded second.
    """
    token, problem = _next_time_token(page, token, largest)
    if token is not None:
        token["limit"] = largest if token["mode"] == IN_ONE_SECOND else limit
    return token, problem


def _next_time_token(page: TimePage, token: Optional[Mapping[str, Any]], largest: int) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    mode = (token or {}).get("mode", BY_TIME)
    if mode == BY_OFFSET:
        return _next_by_offset(page, token), None
    if mode == IN_ONE_SECOND:
        return _next_in_one_second(page, token or {})
    full = len(page.cursors) >= page.request.limit > 0
    moments = [moment_of(value) for value in page.cursors]
    problem = _order_problem(moments, page.request)
    if problem:
        return (_next_by_offset(page, {"mode": BY_OFFSET, "seen": []}) if full else None), problem
    if not full:
        return None, None
    oldest = moments[-1][0]  # type: ignore[index]
    end = api_time(second_after(oldest))
    if page.request.end_time is not None and end >= page.request.end_time:
        return _start_one_second(page, oldest), None  # the page is one second: more records in it than a page holds
    after = second_after(oldest)  # end_time is inclusive: a record at exactly that instant comes again too
    seen = [key for key, moment in zip(page.keys, moments) if moment[0] == oldest or moment == (after, 0)]
    return {"mode": BY_TIME, "start_time": page.request.start_time, "end_time": end, "offset": 0, "seen": seen}, None


def _order_problem(moments: List[Optional[Tuple[str, int]]], request: PageRequest) -> Optional[str]:
    if any(moment is None for moment in moments):
        return "a record without a readable cursor"
    end = second_of_api_time(request.end_time)
    start = second_of_api_time(request.start_time)
    for newer, older in zip(moments, moments[1:]):
        if older[0] > newer[0]:  # type: ignore[index]  # seconds only: the order within one second is not documented
            return f"records not in descending order ({newer[0]} before {older[0]})"  # type: ignore[index]
    if moments and end is not None and moments[0][0] > end:  # type: ignore[index]
        return f"a record at {moments[0][0]} after the requested end_time {request.end_time}"  # type: ignore[index]
    if moments and start is not None and moments[-1][0] < start:  # type: ignore[index]
        return f"a record at {moments[-1][0]} before the requested start_time {request.start_time}"  # type: ignore[index]
    return None


def _start_one_second(page: TimePage, second: str) -> Dict[str, Any]:
    """Reads the crowded second alone, with the largest page the endpoint accepts: a second that fits in it comes
    whole in one answer, whatever the order inside it."""
    return {
        "mode": IN_ONE_SECOND, "second": second, "start_time": api_time(second), "end_time": api_time(second_after(second)),
        "offset": 0, "seen": list(page.keys), "pass": 1, "grew": False, "edges": None,
        "window_start": page.request.start_time,
    }


def _next_in_one_second(page: TimePage, token: Mapping[str, Any]) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    seen = list(token.get("seen") or [])
    known = set(seen)
    new = [key for key in page.keys if key not in known]
    seen += new
    grew = bool(token.get("grew")) or bool(new)
    edges = [page.keys[0], page.keys[-1]] if page.keys else []
    full = len(page.keys) >= page.request.limit > 0
    if full and edges != token.get("edges"):  # more of this second to read in this pass (unless offset is ignored)
        return {**token, "offset": page.request.offset + len(page.keys), "seen": seen, "grew": grew, "edges": edges}, None
    passes = int(token.get("pass", 1))
    whole = page.request.offset == 0 and not full  # the whole second came in one answer
    if grew and not whole and passes < MAX_TIE_PASSES:  # this pass found records: read the second once more
        return {**token, "offset": 0, "seen": seen, "pass": passes + 1, "grew": False, "edges": None}, None
    second = token["second"]
    problem = None
    if grew and not whole:
        problem = (f"more records share the second {second} than a page holds, and each of {passes} reads of that second "
                   "found records the one before had not: the API's order within one second keeps changing, so a "
                   "record of that second may have been missed")
    # The second is read: go on below it, by time, in the window it interrupted. Records at its first instant
    # come again (end_time is inclusive) and are dropped by their keys.
    return {"mode": BY_TIME, "start_time": token.get("window_start"), "end_time": api_time(second), "offset": 0,
            "seen": seen}, problem


def _next_by_offset(page: TimePage, token: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    if len(page.keys) < page.request.limit or page.request.limit <= 0:
        return None
    return {"mode": BY_OFFSET, "start_time": page.request.start_time, "end_time": page.request.end_time,
            "offset": page.request.offset + len(page.keys), "seen": list(page.keys)}


# -- offset-only streams ------------------------------------------------------------------------------------
def next_overlap_token(request: PageRequest, keys: Sequence[Any], token: Optional[Mapping[str, Any]], limit: int) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """(the next page's token or None at the end of the list, a problem to warn about once or None).

    `token` is the one this page was requested with: its `tail` holds the previous page's last keys, newest first.
    `limit` is the page size for the next page.
    """
    token, problem = _next_overlap_token(request, keys, token)
    if token is not None:
        token["limit"] = limit
    return token, problem


def _next_overlap_token(request: PageRequest, keys: Sequence[Any], token: Optional[Mapping[str, Any]]) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    tail = list((token or {}).get("tail") or [])
    limit = request.limit
    if tail and not _holds_any(keys, tail):
        steps = int((token or {}).get("steps_back", 0))
        if request.offset > 0 and steps < MAX_STEPS_BACK:
            # More records left the list above than the overlap covers (or it shrank below this offset): read the
            # page before this one again, still looking for where the previous page ended.
            return {**token, "offset": max(0, request.offset - max(limit - overlap_for(limit), 1)), "steps_back": steps + 1}, None  # type: ignore[dict-item]
        problem = ("the list moved so much while it was read that the previous page's last records could not be "
                   "found again; reading on from here (records may come twice)")
        return _after(request, keys, limit), problem
    if len(keys) < limit or limit <= 0:
        return None, None
    return _after(request, keys, limit), None


def overlap_for(limit: int) -> int:
    """OVERLAP records, or a fifth of a small page (a page must still move the reader on)."""
    return max(1, min(OVERLAP, limit // 5)) if limit > 1 else 0


def _holds_any(keys: Sequence[Any], wanted: Iterable[Any]) -> bool:
    present = set(keys)
    return any(key in present for key in wanted)


def _after(request: PageRequest, keys: Sequence[Any], limit: int) -> Optional[Dict[str, Any]]:
    if len(keys) < limit or limit <= 0:
        return None
    overlap = overlap_for(limit)
    return {"offset": request.offset + limit - overlap, "tail": list(keys[len(keys) - overlap:]), "seen": list(keys)}


class EmittedBefore:
    """The keys of the records a page repeats from the page before (its token's `seen`), from the moment its token
    is made until its answer is read. The CDK hands a page token to the requester only, not to the extractor or the
    record filter, so the keys wait here for the page they belong to, named by what that page's request asks for."""

    def __init__(self) -> None:
        self._waiting: Dict[Tuple[Any, ...], frozenset] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _page_id(stream: str, phone: Optional[str], start: Optional[str], end: Optional[str], offset: Any) -> Tuple[Any, ...]:
        return stream, phone or "", start or "", end or "", int(offset or 0)

    def remember(self, stream: str, phone: Optional[str], token: Optional[Mapping[str, Any]]) -> None:
        if token and token.get("seen"):
            page_id = self._page_id(stream, phone, token.get("start_time"), token.get("end_time"), token.get("offset"))
            with self._lock:
                self._waiting[page_id] = frozenset(token["seen"])

    def take(self, stream: str, phone: Optional[str], request: PageRequest) -> frozenset:
        page_id = self._page_id(stream, phone, request.start_time, request.end_time, request.offset)
        with self._lock:
            return self._waiting.pop(page_id, frozenset())


emitted_before = EmittedBefore()

