"""Pure functions that give Periskope's odd value shapes one form each.

The API returns the nested message `id` object in snake_case from REST and camelCase elsewhere, some JSON
columns as JSON-encoded strings, and timestamps with 0 to 6 fractional digits and several offset spellings.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from typing import Any, MutableMapping, Optional, Set, Tuple

import orjson

_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<fraction>\.\d+)?)?"
    r"\s*(?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_UTC_SPELLINGS = {None, "Z", "z", "+00", "+00:00", "+0000", "-00", "-00:00", "-0000"}

_ID_KEYS = {"fromMe": "from_me", "_serialized": "serialized"}


class NotATimestamp(ValueError):
    pass


if sys.version_info >= (3, 11):
    from_iso = datetime.fromisoformat
else:
    _FRACTION_AND_OFFSET = re.compile(r"(?:\.(\d+))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$")

    def from_iso(text: str) -> datetime:
        """datetime.fromisoformat as Python 3.11 reads an RFC 3339 date-time. Python 3.10's reads only 3 or 6
        fractional digits and no 'Z', '+HH' or '+HHMM'; the API trims trailing zeros (1 to 6 digits)."""
        match = _FRACTION_AND_OFFSET.search(text)
        if match is None or len(text) <= 10:  # a date alone: 3.10 reads it as it is
            return datetime.fromisoformat(text)
        fraction, offset = match.groups()
        fraction = f".{fraction[:6].ljust(6, '0')}" if fraction else ""
        if offset in ("Z", "z"):
            offset = "+00:00"
        elif offset and len(offset) == 3:
            offset += ":00"
        elif offset and ":" not in offset:
            offset = f"{offset[:3]}:{offset[3:]}"
        return datetime.fromisoformat(text[: match.start()] + fraction + (offset or ""))


# 'YYYY-MM-DDTHH:MM:SS[.f+]+00:00': most values already are, and this is cheaper than _TIMESTAMP on every record.
_is_canonical = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?\+00:00").fullmatch


def normalize_timestamp(value: str) -> str:
    """RFC 3339 with an explicit UTC offset, keeping the fractional digits the API sent.

    '2024-05-13 11:19:34+00' -> '2024-05-13T11:19:34+00:00'; '2025-01-24T05:11:10.9Z' -> '...10.9+00:00';
    a non-UTC offset is converted to UTC. Raises NotATimestamp for anything else.
    """
    if _is_canonical(value):
        return value  # most values already are: skip the regex
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise NotATimestamp(value)
    time = match["time"] or "00:00:00"
    if len(time) == 5:
        time += ":00"
    fraction = match["fraction"] or ""
    offset = match["offset"]
    if offset in _UTC_SPELLINGS:
        return f"{match['date']}T{time}{fraction}+00:00"
    if len(offset) == 3:
        offset += ":00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    moment = datetime.fromisoformat(f"{match['date']}T{time}{offset}").astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "+00:00"


def loads_json(data: Any) -> Tuple[Any, bool]:
    """(decoded JSON, whether the lenient parser was needed); raises ValueError when it is not JSON.

    orjson is strict: it refuses a lone UTF-16 surrogate escape ("\\ud83d"), which JavaScript producers emit when
    a string is cut in the middle of an emoji. The standard json module accepts what JSON's grammar allows, so
    such a body is still read (slower, but only that body); `without_lone_surrogates` then repairs its text.
    A body that is not valid UTF-8 (one Latin-1 byte from a proxy or a legacy column) is decoded with U+FFFD in
    place of each bad byte, as for a lone surrogate: one bad character must not fail a stream on every sync;
    `not_utf8` tells the caller, to warn.
    """
    try:
        return orjson.loads(data), False
    except orjson.JSONDecodeError:
        if isinstance(data, (bytes, bytearray)):
            data = bytes(data).decode("utf-8", errors="replace")
        return json.loads(data), True


def not_utf8(data: Any) -> bool:
    """Whether a body holds bytes that are not UTF-8 (asked only of the rare bodies orjson refused)."""
    if not isinstance(data, (bytes, bytearray)):
        return False
    try:
        bytes(data).decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


def without_lone_surrogates(value: Any) -> Tuple[Any, bool]:
    """(the value with every lone surrogate replaced by U+FFFD, whether any was). Destinations cannot store a
    lone surrogate (it is not a character and has no UTF-8 form); U+FFFD is the usual mark of a broken character."""
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value):
            return _LONE_SURROGATE.sub(REPLACEMENT_CHARACTER, value), True
        return value, False
    if isinstance(value, dict):
        changed = False
        for key, item in value.items():
            value[key], item_changed = without_lone_surrogates(item)
            changed |= item_changed
        return value, changed
    if isinstance(value, list):
        changed = False
        for position, item in enumerate(value):
            value[position], item_changed = without_lone_surrogates(item)
            changed |= item_changed
        return value, changed
    return value, False


def repair_lone_surrogates(record: MutableMapping[str, Any]) -> Set[str]:
    """Repairs a record in place; returns the names of the top-level fields that held lone surrogates."""
    repaired = set()
    for name, value in record.items():
        record[name], changed = without_lone_surrogates(value)
        if changed:
            repaired.add(name)
    return repaired


def parse_json_text(value: str) -> Tuple[Any, bool]:
    """(the value a JSON-encoded string holds, whether it held lone surrogates, now repaired); raises ValueError
    when it is not JSON."""
    parsed, lenient = loads_json(value)
    if not lenient:
        return parsed, False
    return without_lone_surrogates(parsed)


def label_names(value: Any) -> Any:
    """Labels as a list of names, from either documented shape: a list, or "Comma-separated label names".

    'vip, Follow up' -> ['vip', 'Follow up']; '' -> []; '1' -> ['1'] and 'null' -> ['null'] (names, not JSON);
    a JSON array in a string ('["vip"]') is read as one. None stays None.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            parsed, _ = parse_json_text(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    return [name.strip() for name in text.split(",") if name.strip()]



def snake_case_id(value: Any) -> Any:
    """The nested WhatsApp id object in one shape: {from_me, id, remote, serialized}."""
    if not isinstance(value, dict):
        return value
    if "fromMe" not in value and "_serialized" not in value:
        return value  # already snake_case (what REST sends): no copy
    return {_ID_KEYS.get(key, key): item for key, item in value.items()}


def org_phone_from_header(x_phone: Optional[str]) -> Optional[str]:
    """The org_phone a record of this x-phone carries ('919876543210' -> '919876543210@c.us')."""
    if x_phone and x_phone.isdigit():
        return f"{x_phone}@c.us"
    return None


def fill_missing(record: MutableMapping[str, Any], field: str, value: Any) -> None:
    if record.get(field) is None and value is not None:
        record[field] = value
