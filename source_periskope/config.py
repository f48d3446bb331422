"""Turns the user's config into the exact values the manifest interpolates.

People paste phone numbers and dates in many forms; the API wants one. Everything here is a pure
function of the config so it can be checked before any request is made.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple
from urllib.parse import urlsplit

from source_periskope.normalize import from_iso
from source_periskope.stream_facts import stream_names

DEFAULT_BASE_URL = "https://api.periskope.app/v1"
# The largest page the API accepts under either reading of its docs ("Maximum 2000", "less than 2000"): under
# a rate limit the number of requests is the sync's wall time.
DEFAULT_PAGE_SIZE = 1999
MAX_PAGE_SIZE = 2000
DEFAULT_WINDOW_DAYS = 30
# Reader threads; the manifest's concurrency_level caps them at MAX_NUM_WORKERS too.
DEFAULT_NUM_WORKERS = 4
MAX_NUM_WORKERS = 8
# "All history": WhatsApp itself started in 2009, so nothing Periskope holds is older.
ALL_HISTORY_START = "2009-01-01T00:00:00Z"
STATE_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# The key under which the normalised x-phone values of every configured number are kept.
PHONES_KEY = "x_phone_values"

_PHONE_ID = re.compile(r"^phone-[a-z0-9]{4,64}$")
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")
_SEPARATORS = re.compile(r"[\s\-.()/]")
_EXPECTED_PHONE = (
    "the number with its country code, digits only (e.g. 919876543210), or a phone id (phone-...)"
)


class ConfigError(ValueError):
    """A config value the connector cannot use; the message names the field and the expected form."""


def normalize_phone(value: Any, field: str = "phone_number") -> str:
    """Returns the x-phone header value for a pasted number or phone id.

    '+91 98765-43210', '0091 98765 43210' and '919876543210@c.us' all mean 919876543210;
    '+44 (0)7700 900123' drops the trunk zero and means 447700900123.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(f"{field} must be text: {_EXPECTED_PHONE}.")
    text = str(value).strip()
    if _PHONE_ID.match(text.lower()):
        return text.lower()
    if text.lower().endswith("@c.us"):
        text = text[: -len("@c.us")]
    digits = _SEPARATORS.sub("", _TRUNK_ZERO.sub("", text))
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not digits.isdigit() or not digits.isascii():
        raise ConfigError(f"{field} {text!r} is not a WhatsApp number: expected {_EXPECTED_PHONE}.")
    if not 8 <= len(digits) <= 15:
        raise ConfigError(
            f"{field} {text!r} has {len(digits)} digits; a number with its country code has 8 to 15: "
            f"expected {_EXPECTED_PHONE}."
        )
    return digits


def parse_start_date(value: Any) -> str:
    """A date or RFC 3339 date-time, returned as UTC in the state's format."""
    text = str(value).strip()
    try:
        if len(text) == 10:
            moment = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        else:
            moment = from_iso(text.replace("Z", "+00:00").replace(" ", "T", 1))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise ConfigError(
            f"start_date {text!r} is not a date: expected YYYY-MM-DD or an RFC 3339 date-time "
            "such as 2025-01-31T00:00:00Z."
        ) from None
    moment = moment.astimezone(timezone.utc)
    if moment > datetime.now(timezone.utc):
        raise ConfigError(f"start_date {text!r} is in the future: nothing would be synced.")
    return moment.strftime(STATE_DATETIME_FORMAT)


def _bounded_number(config: Mapping[str, Any], field: str, default: Any, low: Any, high: Any, kind: type = int) -> Any:
    value = config.get(field)
    if value is None or value == "":
        return default
    problem = ConfigError(f"{field} must be a {'whole ' if kind is int else ''}number from {low} to {high}, not {value!r}.")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise problem from None
    if not low <= number <= high or (isinstance(value, float) and value != number):
        raise problem
    return number


def _base_url(config: Mapping[str, Any]) -> str:
    """The API base URL; https:// only (the key travels with every request), except a loopback host (tests, demo)."""
    url = str(config.get("base_url") or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"base_url {url!r} is not an https URL, e.g. {DEFAULT_BASE_URL}.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"base_url {url!r} must use https://: the API key would travel unencrypted. Only a loopback host "
            "(127.0.0.1, localhost), for tests, may use http://."
        )
    return url


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# The by-id detail fields (details.py): each a config option, on or off by its cost in requests.
DETAIL_DEFAULTS = {"fetch_ticket_closed_by": True, "fetch_message_reactions": False, "fetch_contact_chat_ids": False}


def _boolean(config: Mapping[str, Any], field: str, default: bool) -> bool:
    value = config.get(field)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{field} must be true or false, not {value!r}.")


_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


def _api_key(value: str) -> str:
    """The key, trimmed. A key is visible ASCII: a character pasted with it (a zero-width space, a byte-order mark, a
    line break) cannot travel in the Authorization header, and the error a library raises then shows the header,
    the key escaped, where the CDK's secret filter (which looks for the key as given) does not find it. The message
    names the characters, never the key."""
    key = value.strip()
    if _VISIBLE_ASCII.fullmatch(key):
        return key
    odd = sorted({f"U+{ord(char):04X}" for char in key if not _VISIBLE_ASCII.fullmatch(char)})
    raise ConfigError(
        f"api_key holds {len([c for c in key if not _VISIBLE_ASCII.fullmatch(c)])} character(s) that are not visible "
        f"ASCII ({', '.join(odd)}: e.g. a zero-width space, a byte-order mark or a line break pasted with it). "
        "Copy the key again from Settings > API in the Periskope console, or type it."
    )


def phone_values(config: Mapping[str, Any]) -> List[str]:
    """Every configured number, normalised, each once, the required one first."""
    values = [normalize_phone(config.get("phone_number"), "phone_number")]
    extra = config.get("additional_phone_numbers") or []
    if isinstance(extra, str):
        extra = [part for part in re.split(r"[,;\n]", extra) if part.strip()]
    for position, raw in enumerate(extra):
        value = normalize_phone(raw, f"additional_phone_numbers[{position}]")
        if value not in values:
            values.append(value)
    return values


def normalize_config(config: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """Returns a copy of the config with every value in the form the manifest expects.

    Raises ConfigError naming the first field that cannot be used.
    """
    api_key = config.get("api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        raise ConfigError("api_key is missing: copy it from Settings > API in the Periskope console.")
    if config.get("phone_number") in (None, ""):
        raise ConfigError(f"phone_number is missing: expected {_EXPECTED_PHONE}.")
    normalized = dict(config)
    normalized["api_key"] = _api_key(api_key)
    phones = phone_values(config)
    normalized["phone_number"] = phones[0]
    normalized[PHONES_KEY] = phones
    start = config.get("start_date")
    normalized["start_date"] = parse_start_date(start) if start not in (None, "") else ALL_HISTORY_START
    normalized["base_url"] = _base_url(config)
    normalized["page_size"] = _bounded_number(config, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    normalized["window_days"] = _bounded_number(config, "window_days", DEFAULT_WINDOW_DAYS, 1, 3650)
    normalized["lookback_days"] = _bounded_number(config, "lookback_days", 0, 0, 365)
    normalized["max_retries"] = _bounded_number(config, "max_retries", 8, 0, 20)
    normalized["retry_backoff_seconds"] = _bounded_number(config, "retry_backoff_seconds", 2.0, 0.01, 60.0, kind=float)
    normalized["request_timeout_seconds"] = _bounded_number(config, "request_timeout_seconds", 60, 1, 600)
    normalized["num_workers"] = _bounded_number(config, "num_workers", DEFAULT_NUM_WORKERS, 1, MAX_NUM_WORKERS)
    for option, default in DETAIL_DEFAULTS.items():
        normalized[option] = _boolean(config, option, default)
    return normalized


def start_dates(config: Mapping[str, Any], full_refresh_streams: Iterable[str] = ()) -> Dict[str, str]:
    """Where each stream's reading starts: start_date bounds incremental syncs; a full refresh reads all history."""
    full_refresh = set(full_refresh_streams)
    return {stream: ALL_HISTORY_START if stream in full_refresh else config["start_date"] for stream in stream_names()}


def try_normalize_config(
    config: Optional[Mapping[str, Any]], full_refresh_streams: Iterable[str] = ()
) -> Tuple[Optional[Mapping[str, Any]], Optional[str]]:
    """(normalised config, None), or (the config as given, the problem) when it cannot be used."""
    if not config:
        return config, None
    try:
        normalized = normalize_config(config)
        normalized["start_date_by_stream"] = start_dates(normalized, full_refresh_streams)
        return normalized, None
    except ConfigError as problem:
        return config, str(problem)
