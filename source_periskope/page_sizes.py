"""The page size each endpoint accepts, learned once per sync from the API's 422 about `limit`.

The docs say both "Maximum 2000" and "Limit should be less than 2000". The default page size (1,999) is accepted
under either reading; a larger one that the API refuses is lowered to the bound its 422 names ("less than 2000"
means 1,999) for every later request to that endpoint in the sync: the streams' windows and the read plan's probes
alike, so the refusal costs one request per endpoint, not one per window.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

_LESS_THAN = re.compile(r"less than\s+(\d+)", re.IGNORECASE)
_AT_MOST = re.compile(r"(?:at most|maximum(?: is| of)?|max(?:imum)?\s*[-:=]?)\s*(\d+)", re.IGNORECASE)

LARGEST_ACCEPTED = 1999  # under either reading of the docs

_learned: Dict[Tuple[str, str], int] = {}
_lock = threading.Lock()


def _key(url: str) -> Tuple[str, str]:
    parts = urlsplit(url)
    return parts.netloc, parts.path.rstrip("/")


def page_size_for(config: Mapping[str, Any], path: str) -> int:
    """The page size to ask `path` (relative to base_url) for in this sync."""
    configured = int(config.get("page_size") or 1)
    learned = _learned.get(_key(f"{config.get('base_url', '')}{path}"))
    return min(configured, learned) if learned else configured


def largest_page_size_for(config: Mapping[str, Any], path: str) -> int:
    """The largest page `path` accepts as far as this sync knows: for one second holding more records than a page."""
    learned = _learned.get(_key(f"{config.get('base_url', '')}{path}"))
    return learned if learned else max(int(config.get("page_size") or 1), LARGEST_ACCEPTED)


def is_limit_rejection(status: int, body: Any) -> bool:
    return (
        status == 422 and isinstance(body, dict) and body.get("code") == "VALIDATION_ERROR"
        and isinstance(body.get("fields"), dict) and "limit" in body["fields"]
    )


def bound_named(body: Mapping[str, Any], refused: int) -> int:
    """The largest limit the 422 says is accepted; half the refused one when it names no number below it."""
    field = (body.get("fields") or {}).get("limit") or {}
    texts = [str(field.get("message") or "") if isinstance(field, dict) else str(field), str(body.get("message") or "")]
    for text in texts:
        match = _LESS_THAN.search(text)
        if match and 1 < int(match.group(1)) <= refused:
            return int(match.group(1)) - 1
        match = _AT_MOST.search(text)
        if match and 0 < int(match.group(1)) < refused:
            return int(match.group(1))
    return max(1, refused // 2)


def learn(url: str, refused: int, body: Mapping[str, Any]) -> Optional[int]:
    """Remembers the bound for the endpoint of `url`; returns it, or None when `refused` was already 1."""
    if refused <= 1:
        return None
    bound = bound_named(body, refused)
    with _lock:
        key = _key(url)
        _learned[key] = min(bound, _learned.get(key, bound))
        return _learned[key]


def learn_from_rejection(response: Any, refused: int) -> Optional[int]:
    """The smaller page size a 422 about `limit` to `refused` allows (remembered for its endpoint), or None when
    the response is no such refusal or nothing smaller is left to try."""
    if getattr(response, "status_code", None) != 422:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not is_limit_rejection(422, body):
        return None
    bound = learn(response.url or "", refused, body)
    return bound if bound is not None and bound < refused else None


def forget() -> None:
    """A new sync starts with the configured page size again (one process may run several reads in tests)."""
    with _lock:
        _learned.clear()
