"""Timestamps: formatting, parsing and the start_time/end_time filter values.

Internally every time is an integer count of microseconds since the Unix epoch
(UTC). The API renders them like Postgres does: ISO-8601 with a `+00:00` offset
and the fractional part trimmed of trailing zeros, which is why real responses
show 0 to 6 fractional digits (`05:11:10+00:00`, `05:11:10.9+00:00`,
`13:46:55.758677+00:00`).
"""

import datetime as dt
import functools
import re
import sys
import time

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
_EPOCH = dt.date(1970, 1, 1)
_EPOCH_DATETIME = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_ONE_US = dt.timedelta(microseconds=1)


class TimeFormatError(ValueError):
    """A start_time/end_time value the API would reject."""


US_PER_MINUTE = 60 * US_PER_SECOND


@functools.lru_cache(maxsize=65536)
def _minute_text(minutes_since_epoch: int) -> str:
    """'YYYY-MM-DDTHH:MM:' for a minute; cached because pages share minutes."""
    moment = _EPOCH_DATETIME + dt.timedelta(minutes=minutes_since_epoch)
    return moment.strftime("%Y-%m-%dT%H:%M:")


# Lookup tables: format_ts runs twice per generated message, so avoid formatting work.
_SECONDS_TEXT = tuple(f"{n:02d}" for n in range(60))
_MILLISECOND_FRACTIONS = ("",) + tuple(f".{n:03d}".rstrip("0") for n in range(1, 1000))


def format_ts(us: int) -> str:
    """Render epoch microseconds as the API does (0-6 fractional digits, +00:00)."""
    minutes, rest = divmod(us, US_PER_MINUTE)
    seconds, fraction = divmod(rest, US_PER_SECOND)
    if fraction % 1000 == 0:  # whole milliseconds (or seconds): a table lookup
        return f"{_minute_text(minutes)}{_SECONDS_TEXT[seconds]}{_MILLISECOND_FRACTIONS[fraction // 1000]}+00:00"
    return f"{_minute_text(minutes)}{_SECONDS_TEXT[seconds]}.{f'{fraction:06d}'.rstrip('0')}+00:00"


def now_us() -> int:
    return time.time_ns() // 1000


def to_epoch_us(value) -> int:
    """Accept a datetime, an ISO string, or epoch seconds (int/float)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return (value - _EPOCH_DATETIME) // _ONE_US  # exact integer arithmetic
    if isinstance(value, (int, float)):
        return round(value * US_PER_SECOND)
    return parse_record_ts(str(value))


def parse_record_ts(text: str) -> int:
    """Lenient parser for timestamps stored in records (any ISO-8601 form)."""
    text = text.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if re.search(r"[+-]\d\d$", text):  # Postgres short offset "+00"
        text += ":00"
    if sys.version_info < (3, 11):  # 3.10's fromisoformat reads only 3 or 6 fractional digits: pad the trimmed ones
        text = re.sub(r"\.(\d{1,6})\d*", lambda m: "." + m[1].ljust(6, "0"), text, count=1)
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return to_epoch_us(parsed)


# The forms the filters accept: the two documented ones (YYYY-MM-DD and
# YYYY-MM-DDTHH:MM:SSZ), plus what clients are seen sending: JS toISOString()
# milliseconds (...SS.mmmZ) and explicit offsets (+00:00). Anything else,
# including a time without a zone or an unencoded "+" that arrives as a space,
# is rejected so that a connector's formatting bug shows up as a 422.
_FILTER_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,6}))?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2}))?$"
)


def parse_filter_time(text: str, is_end: bool) -> int:
    """Parse a start_time/end_time query value into epoch microseconds.

    A date-only end_time means the end of that day (23:59:59.999999), so both
    bounds can be treated as inclusive.
    """
    match = _FILTER_RE.match(text)
    if not match:
        raise TimeFormatError(text)
    try:
        day = dt.date.fromisoformat(match["date"])
        if match["time"] is None:
            start_of_day = (day - _EPOCH).days * US_PER_DAY
            return start_of_day + (US_PER_DAY - 1 if is_end else 0)
        clock = dt.time.fromisoformat(match["time"])
    except ValueError as exc:  # e.g. 2025-04-31 or 25:00:00
        raise TimeFormatError(text) from exc
    zone = match["zone"]
    offset = dt.timezone.utc if zone == "Z" else dt.datetime.strptime(zone, "%z").tzinfo
    moment = dt.datetime.combine(day, clock, tzinfo=offset)
    fraction = int((match["frac"] or "0").ljust(6, "0"))
    return to_epoch_us(moment) + fraction


# Fractional-digit grids (in microseconds) a generated timestamp is rounded
# to. Rounding to 1e6 gives "...:10+00:00", to 1e3 "...:10.123+00:00";
# Postgres-style trimming of trailing zeros then yields every length from 0 to 6.
ROUNDING_GRIDS = (1_000_000,) * 7 + (1_000,) * 6 + (1,) * 4 + (100_000, 10_000, 100, 10)


def vary_precision(us: int, choice: int) -> int:
    """Round `us` down to a grid picked by `choice` (any int), like real mixed-precision data."""
    grid = ROUNDING_GRIDS[choice % len(ROUNDING_GRIDS)]
    return us - us % grid
