"""Python components for what the manifest cannot express (referenced as source_periskope.components.X)."""

from __future__ import annotations

import json
import logging
import pkgutil
import random
import time
from email.utils import parsedate_to_datetime
from dataclasses import InitVar, dataclass, field
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Set, Tuple, Union

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import (
    SUCCESS_RESOLUTION,
    DefaultErrorHandler,
)
from airbyte_cdk.sources.declarative.requesters.paginators.strategies import OffsetIncrement
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, ErrorResolution
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.normalize import (
    NotATimestamp,
    fill_missing,
    normalize_timestamp,
    org_phone_from_header,
    parse_json_text,
    snake_case_id,
)

logger = logging.getLogger("airbyte")


def _path(response: requests.Response) -> str:
    return requests.utils.urlparse(response.url).path if response.url else "?"


def _bad_response(stream: str, response: requests.Response, problem: str) -> AirbyteTracedException:
    return AirbyteTracedException(
        message=f"Stream {stream}: Periskope sent an unexpected response to {_path(response)}: {problem}.",
        internal_message=f"{problem}; status {response.status_code}; first bytes {response.content[:200]!r}",
        failure_type=FailureType.system_error,
    )


@dataclass
class EnvelopeRecordExtractor(RecordExtractor):
    """Takes the records out of Periskope's list envelope {from, to, count, <records key>: [...]}.

    `records_keys` are tried in order (notifications arrive under `messages` or `notifictions`); an empty key means
    the body itself is the list (GET /phones/all). A missing key is an empty page, as the SDK's types allow,
    unless the envelope's count says records were sent: that is an error, never a silent stop.
    """

    records_keys: List[str]
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._keys = [
            InterpolatedString.create(key, parameters=parameters).eval(self.config) or ""
            for key in self.records_keys
        ]
        self._stream = parameters.get("name", "?")

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            kind = "an HTML page" if b"<html" in response.content[:500].lower() else "a body that is not JSON"
            raise _bad_response(self._stream, response, f"{kind} with status {response.status_code}") from None
        records = self._records_in(body, response)
        for record in records:
            if not isinstance(record, dict):
                raise _bad_response(self._stream, response, f"a record that is not an object: {type(record).__name__}")
        return records

    def _records_in(self, body: Any, response: requests.Response) -> List[Any]:
        if isinstance(body, list):
            return body
        if not isinstance(body, dict):
            raise _bad_response(self._stream, response, f"a {type(body).__name__} instead of a list envelope")
        for key in self._keys:
            if key and key in body:
                records = body[key]
                if records is None:
                    return []
                if not isinstance(records, list):
                    raise _bad_response(self._stream, response, f"'{key}' is a {type(records).__name__}, not a list")
                return records
        count = body.get("count")
        if isinstance(count, int) and count > 0:
            raise _bad_response(self._stream, response, f"count is {count} but no '{'/'.join(self._keys)}' key")
        return []


@lru_cache(maxsize=None)
def _schema(stream: str) -> Mapping[str, Any]:
    raw = pkgutil.get_data("source_periskope", f"schemas/{stream}.json")
    return json.loads(raw) if raw else {"properties": {}}


def _types(spec: Mapping[str, Any]) -> Set[str]:
    declared = spec.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


@dataclass
class NormalizeRecord(RecordTransformation):
    """Gives each record the shapes its stream's schema declares.

    - JSON fields (object or array in the schema) that arrive as JSON-encoded strings are parsed; a string that
      is not JSON is kept as it came and a warning names the stream and field.
    - Nested WhatsApp id objects (`id`, `msg_id`, `latest_message.id`) become {from_me, id, remote, serialized}.
    - date-time fields become RFC 3339 with an explicit UTC offset, fractional digits kept.
    - Phone-scoped records always carry org_phone (the x-phone they were read through, if the API left it out).
    - A record without its primary key is emitted as it came, never dropped, with a warning.
    String-typed fields (e.g. ack "3") are left alone.
    """

    parameters: InitVar[Mapping[str, Any]]
    _warned: Set[Tuple[str, str]] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "?")
        schema = _schema(self._stream)
        properties = schema["properties"]
        self._primary_key = [name for name in schema.get("required", []) if name != "org_phone"]
        self._json_fields: Dict[str, type] = {}
        self._timestamp_fields: List[str] = []
        self._id_fields: List[str] = []
        for name, spec in properties.items():
            types = _types(spec)
            if "string" in types:
                if spec.get("format") == "date-time":
                    self._timestamp_fields.append(name)
                continue
            if "object" in types:
                self._json_fields[name] = dict
                if {"serialized", "remote"} <= set(spec.get("properties", {})):
                    self._id_fields.append(name)
            elif "array" in types:
                self._json_fields[name] = list
        self._has_org_phone = "org_phone" in properties

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        if str in map(type, map(record.get, self._json_fields)):  # rare, and checked without a Python loop
            for name in self._json_fields:
                value = record.get(name)
                if isinstance(value, str):
                    record[name] = self._parsed(name, value)
        for name in self._id_fields:
            record[name] = snake_case_id(record.get(name))
        latest = record.get("latest_message")
        if isinstance(latest, dict) and "id" in latest:
            latest["id"] = snake_case_id(latest["id"])
        for name in self._timestamp_fields:
            value = record.get(name)
            if isinstance(value, str):
                record[name] = self._timestamp(name, value)
        if self._has_org_phone and record.get("org_phone") is None and stream_slice is not None:
            fill_missing(record, "org_phone", org_phone_from_header(stream_slice.partition.get("phone")))
        for name in self._primary_key:
            if record.get(name) is None:
                self._warn_once(name, "(part of the primary key) is missing; the record is emitted as it came")

    def _parsed(self, name: str, value: str) -> Any:
        try:
            return parse_json_text(value)
        except ValueError:
            self._warn_once(name, "is a string that is not JSON; it is kept as it came")
            return value

    def _timestamp(self, name: str, value: str) -> str:
        try:
            return normalize_timestamp(value)
        except NotATimestamp:
            self._warn_once(name, "is not a timestamp; it is kept as it came")
            return value

    def _warn_once(self, name: str, problem: str) -> None:
        if (name, problem) not in self._warned:
            self._warned.add((name, problem))
            logger.warning(f"Stream {self._stream}: field {name} {problem} (further cases are not logged).")


# An X-RateLimit-Reset above this is an epoch time (seconds since 1970), below it a number of seconds to wait.
_EPOCH_THRESHOLD = 1_000_000_000


def _seconds_from_retry_after(value: str, now: float) -> Optional[float]:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError, IndexError):
        return None


def _seconds_from_reset(value: str, now: float) -> Optional[float]:
    try:
        reset = float(value)
    except ValueError:
        return None
    return reset - now if reset > _EPOCH_THRESHOLD else reset


@dataclass
class RateLimitBackoff(BackoffStrategy):
    """How long to wait before retrying a rate-limited or failed request, from what the response says.

    Periskope documents X-RateLimit-* headers but not their units, nor Retry-After, so every plausible form is
    read: Retry-After in seconds or as an HTTP date, else X-RateLimit-Reset as an epoch time or as seconds to
    wait, else exponential backoff with jitter. Each wait is logged once, with the stream and the path.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    factor: Union[float, str] = 2
    max_wait_seconds: Union[float, str] = 600

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "?")
        self._factor = float(InterpolatedString.create(str(self.factor), parameters=parameters).eval(self.config))
        self._max_wait = float(InterpolatedString.create(str(self.max_wait_seconds), parameters=parameters).eval(self.config))

    def backoff_time(
        self,
        response_or_exception: Optional[Union[requests.Response, requests.RequestException]],
        attempt_count: int,
    ) -> Optional[float]:
        wait = None
        if isinstance(response_or_exception, requests.Response):
            wait = self.wait_from_headers(response_or_exception, time.time())
        if wait is None:
            wait = self._factor * 2 ** max(attempt_count - 1, 0) + random.uniform(0, self._factor)
        wait = min(max(wait, 0.5), self._max_wait)
        logger.info(f"Stream {self._stream}: {self._cause(response_or_exception)}; retrying in {wait:.1f} s (attempt {attempt_count}).")
        return wait

    @staticmethod
    def wait_from_headers(response: requests.Response, now: float) -> Optional[float]:
        """Retry-After wherever it is sent; X-RateLimit-Reset only on a 429, since every response carries it."""
        headers = response.headers
        if headers.get("Retry-After"):
            wait = _seconds_from_retry_after(headers["Retry-After"], now)
            if wait is not None:
                return wait
        if response.status_code == 429 and headers.get("X-RateLimit-Reset"):
            return _seconds_from_reset(headers["X-RateLimit-Reset"], now)
        return None

    @staticmethod
    def _cause(response_or_exception: Any) -> str:
        if isinstance(response_or_exception, requests.Response):
            return f"HTTP {response_or_exception.status_code} from {_path(response_or_exception)}"
        return f"{type(response_or_exception).__name__} (connection problem)"


@dataclass
class OffsetIncrementThatStopsOnRepeats(OffsetIncrement):
    """Offset/limit paging that fails instead of looping forever when the API ignores `offset`.

    A full page whose records are exactly those of the page before means the server served the same page again;
    the CDK's OffsetIncrement would ask for the next offset endlessly. The page size is read from the config once,
    not re-evaluated against every decoded page.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if isinstance(self.page_size, str):
            self.page_size = int(InterpolatedString.create(self.page_size, parameters=parameters).eval(self.config))
        super().__post_init__(parameters)
        self._stream = parameters.get("name", "?")
        self._previous_page_edges: Optional[Tuple[Any, Any]] = None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any] = None,
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        token = super().next_page_token(
            response, last_page_size, last_record, last_page_token_value,
            page_size_override=page_size_override, stream_slice=stream_slice,
        )
        if token is None:
            self._previous_page_edges = None
            return None
        edges = (last_page_token_value, dict(last_record.data) if last_record is not None else None)
        if self._previous_page_edges is not None and edges[1] == self._previous_page_edges[1]:
            raise AirbyteTracedException(
                message=(
                    f"Stream {self._stream}: Periskope returned the same page for offset {self._previous_page_edges[0]} "
                    f"and offset {last_page_token_value} of {_path(response)}: it seems to ignore `offset`. "
                    "Stopped rather than read the same records forever."
                ),
                failure_type=FailureType.system_error,
            )
        self._previous_page_edges = edges
        return token


@dataclass
class ErrorHandlerThatTrustsSuccess(DefaultErrorHandler):
    """The DefaultErrorHandler, without evaluating its response filters on a successful (2xx) response.

    A filter with a `predicate` decodes the whole body again to evaluate it, on every page: that was 16% of a
    sync's CPU. None of our filters acts on a 2xx response, so the result is the same.
    """

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.ok:
            return SUCCESS_RESOLUTION
        return super().interpret_response(response_or_exception)
