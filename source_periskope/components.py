"""Python components for what the manifest cannot express (referenced as source_periskope.components.X)."""

# No `from __future__ import annotations` here: the CDK builds these components with typing.get_type_hints,
# which on Python 3.10 cannot evaluate a string InitVar annotation.

import json
import logging
import pkgutil
import random
import time
from dataclasses import InitVar, dataclass
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Set, Tuple, Union

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import (
    SUCCESS_RESOLUTION,
    DefaultErrorHandler,
)
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.normalize import (
    NotATimestamp,
    fill_missing,
    label_names,
    loads_json,
    normalize_timestamp,
    not_utf8,
    org_phone_from_header,
    parse_json_text,
    repair_lone_surrogates,
    snake_case_id,
    without_lone_surrogates,
)
from source_periskope.details import DetailRequests
from source_periskope import page_sizes, paging
from source_periskope.pacing import pacer_for
from source_periskope.rate_limits import wait_from_headers
from source_periskope.redirects import refuse_unsafe_redirect
from source_periskope.read_plan import floor_of, parse_cursor
from source_periskope.stream_facts import stream as stream_facts
from source_periskope.server_clock import clock_for

logger = logging.getLogger("airbyte")


def _path(response: requests.Response) -> str:
    return requests.utils.urlparse(response.url).path if response.url else "?"


def _bad_response(stream: str, response: requests.Response, problem: str) -> AirbyteTracedException:
    return AirbyteTracedException(
        message=f"Stream {stream}: Periskope sent an unexpected response to {_path(response)}: {problem}.",
        internal_message=f"{problem}; status {response.status_code}; first bytes {response.content[:200]!r}",
        failure_type=FailureType.system_error,
    )


# Set on each response by the extractor, read by the paginator: the page's records as the API sent them (before the
# record filter), so the next page is computed from the whole page without decoding it twice.
PAGE_RECORDS = "periskope_page_records"


@dataclass
class EnvelopeRecordExtractor(RecordExtractor):
    """Takes the records out of Periskope's list envelope {from, to, count, <records key>: [...]}.

    Records the page repeats from the page before (the boundary second of a time-paged window, the overlap of an
    offset-paged list) are dropped. The stream's $parameters.records_keys are tried in order (notifications arrive under `messages` or
    `notifictions`); none means the body itself is the list (GET /phones/all). A missing key is an empty page, as
    the SDK's types allow, if the envelope says so (count 0, or from/to); a count above 0 without records, or an
    object that is no envelope at all, is an error, never a silent stop. A body that only the lenient JSON parser
    reads (a lone surrogate from text cut mid-emoji) is read, and its text repaired with a warning.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._keys = list(parameters.get("records_keys") or [])
        self._stream = parameters.get("name", "?")
        self._key_field = stream_facts(self._stream).primary_key[0]
        self._warnings = OnceWarnings(self._stream)

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        try:
            body, lenient = loads_json(response.content)
        except ValueError:
            kind = "an HTML page" if b"<html" in response.content[:500].lower() else "a body that is not JSON"
            raise _bad_response(self._stream, response, f"{kind} with status {response.status_code}") from None
        records = self._records_in(body, response)
        for record in records:
            if not isinstance(record, dict):
                raise _bad_response(self._stream, response, f"a record that is not an object: {type(record).__name__}")
        if lenient:
            self._repair(records)
            if not_utf8(response.content):
                self._warnings.warn_once(
                    f"a response from {_path(response)} held bytes that are not UTF-8 (text in another encoding, "
                    "such as Latin-1); each is written as U+FFFD"
                )
        setattr(response, PAGE_RECORDS, records)
        return self._not_emitted_before(records, response)

    def _not_emitted_before(self, records: List[Dict[str, Any]], response: requests.Response) -> List[Dict[str, Any]]:
        """Drops the records this page repeats from the page before (paging.py): each is emitted once."""
        request = response.request
        if request is None:
            return records
        seen = paging.emitted_before.take(self._stream, request.headers.get("x-phone"), paging.PageRequest.of(request.url))
        if not seen:
            return records
        key = self._key_field
        return [record for record in records if record.get(key) not in seen]

    def _records_in(self, body: Any, response: requests.Response) -> List[Any]:
        if isinstance(body, list):
            return body
        if not isinstance(body, dict):
            raise _bad_response(self._stream, response, f"a {type(body).__name__} instead of a list envelope")
        for key in self._keys:
            if key in body:
                records = body[key]
                if records is None:
                    return []
                if not isinstance(records, list):
                    raise _bad_response(self._stream, response, f"'{key}' is a {type(records).__name__}, not a list")
                return records
        keys = "/".join(self._keys) or "records"
        count = body.get("count")
        if isinstance(count, int) and count > 0:
            raise _bad_response(self._stream, response, f"count is {count} but no '{keys}' key")
        if not {"count", "from", "to"} & body.keys():
            # Not evidence of an empty page: reading on would checkpoint past records never seen.
            raise _bad_response(self._stream, response, f"an object without '{keys}', count, from or to")
        return []

    def _repair(self, records: List[Dict[str, Any]]) -> None:
        for record in records:
            for name in repair_lone_surrogates(record):
                self._warnings.warn(name, CUT_TEXT_WARNING)


CUT_TEXT_WARNING = (
    "held text cut in the middle of a character (a lone UTF-16 surrogate, as JavaScript writes an emoji cut in "
    "two); it is written with U+FFFD in its place"
)


class OnceWarnings:
    """Warnings about a stream's fields, each logged once (a sync of a million records must not repeat them)."""

    def __init__(self, stream: str) -> None:
        self._stream = stream
        self._seen: Set[Tuple[str, str]] = set()

    def warn_stream(self, problem: str) -> None:
        if ("", problem) not in self._seen:
            self._seen.add(("", problem))
            logger.warning(f"Stream {self._stream}: {problem}.")

    def warn(self, field_name: str, problem: str) -> None:
        if (field_name, problem) not in self._seen:
            self._seen.add((field_name, problem))
            logger.warning(f"Stream {self._stream}: field {field_name} {problem} (further cases are not logged).")

    def warn_once(self, problem: str) -> None:
        """A warning about the stream's responses rather than one field."""
        if ("", "response") not in self._seen:
            self._seen.add(("", "response"))
            logger.warning(f"Stream {self._stream}: {problem} (further cases are not logged).")


@lru_cache(maxsize=None)
def _schema(stream: str) -> Mapping[str, Any]:
    raw = pkgutil.get_data("source_periskope", f"schemas/{stream}.json")
    return json.loads(raw) if raw else {"properties": {}}


def _types(spec: Mapping[str, Any]) -> Set[str]:
    declared = spec.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


# Fields the product brief documents as "Comma-separated label names" and the contract shows as arrays.
LABEL_FIELDS = ("labels",)
# What text that is not JSON of its field's declared type becomes, so that no data is lost and the record still
# matches its schema: a one-item list, or an object holding the text.
UNPARSED_TEXT_KEY = "unparsed_text"


@dataclass
class NormalizeRecord(RecordTransformation):
    """Gives each record the shapes its stream's schema declares, so every record validates against it.

    - JSON fields (object or array in the schema) that arrive as JSON-encoded strings are parsed; text that is not
      JSON of that type is kept inside the declared type (["text"] or {"unparsed_text": "text"}) with a warning
      naming the stream and field.
    - `labels` become a list of names from either documented shape: a list, or comma-separated names.
    - Nested WhatsApp id objects (`id`, `msg_id`, `latest_message.id`) become {from_me, id, remote, serialized}.
    - date-time fields become RFC 3339 with an explicit UTC offset, fractional digits kept.
    - Phone-scoped records always carry org_phone (the x-phone they were read through, if the API left it out).
    - A record without its primary key is emitted as it came, never dropped, with a warning.
    String-typed fields (e.g. ack "3") are left alone.
    """

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "?")
        self._warnings = OnceWarnings(self._stream)
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
        self._label_fields = [name for name in LABEL_FIELDS if name in self._json_fields]
        self._has_org_phone = "org_phone" in properties

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        for name in self._label_fields:
            if isinstance(record.get(name), str):
                record[name] = label_names(record[name])
        if str in map(type, map(record.get, self._json_fields)):  # rare, and checked without a Python loop
            for name, kind in self._json_fields.items():
                value = record.get(name)
                if isinstance(value, str):
                    record[name] = self._parsed(name, value, kind)
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
                self._warnings.warn(name, "(part of the primary key) is missing; the record is emitted as it came")

    def field_value(self, name: str, value: Any) -> Any:
        """One field's value in the form transform gives it: for a value fetched after the record was transformed
        (details.py)."""
        if not isinstance(value, str):
            return value
        if name in self._label_fields:
            return label_names(value)
        if name in self._json_fields:
            return self._parsed(name, value, self._json_fields[name])
        if name in self._timestamp_fields:
            return self._timestamp(name, value)
        return value

    def _parsed(self, name: str, value: str, kind: type) -> Any:
        try:
            parsed, repaired = parse_json_text(value)
        except ValueError:
            parsed, repaired = None, False
        if repaired:
            self._warnings.warn(name, CUT_TEXT_WARNING)
        if isinstance(parsed, kind) or (parsed is None and value.strip() == "null"):
            return parsed
        shape = f'{{"{UNPARSED_TEXT_KEY}": <the text>}}' if kind is dict else "[<the text>]"
        what = "a JSON object" if kind is dict else "a JSON array"
        self._warnings.warn(name, f"is text that is not {what}; it is written as {shape}")
        text, _ = without_lone_surrogates(value)
        return {UNPARSED_TEXT_KEY: text} if kind is dict else [text]

    def _timestamp(self, name: str, value: str) -> str:
        try:
            return normalize_timestamp(value)
        except NotATimestamp:
            self._warnings.warn(name, "is not a timestamp; it is kept as it came")
            return value


@dataclass
class RateLimitBackoff(BackoffStrategy):
    """How long to wait before retrying a rate-limited or failed request, from what the response says.

    What the response says (rate_limits.py: Retry-After, or X-RateLimit-Reset on a 429 that reports nothing left, in
    any of their plausible units), else exponential backoff with jitter: a 429 that still reports quota left is
    retried after that short backoff, not at the Reset. At most max_wait_seconds. Each wait is logged once, with the
    stream and the path.
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
            wait = wait_from_headers(response_or_exception.status_code, response_or_exception.headers, time.time())
        if wait is None:
            wait = self._factor * 2 ** max(attempt_count - 1, 0) + random.uniform(0, self._factor)
        wait = min(max(wait, 0.5), self._max_wait)
        logger.info(f"Stream {self._stream}: {self._cause(response_or_exception)}; retrying in {wait:.1f} s (attempt {attempt_count}).")
        return wait

    @staticmethod
    def _cause(response_or_exception: Any) -> str:
        if isinstance(response_or_exception, requests.Response):
            return f"HTTP {response_or_exception.status_code} from {_path(response_or_exception)}"
        return f"{type(response_or_exception).__name__} (connection problem)"


@dataclass
class _ListPaging(PaginationStrategy):
    """What both paging strategies share: the page size of the endpoint in this sync (page_sizes.py), the page's
    records as the API sent them, and one warning per stream for a list that does not behave as assumed."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    inject_on_first_request: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "?")
        self._path = parameters.get("api_path", "")
        facts = stream_facts(self._stream)
        self._cursor_field = facts.cursor_field
        self._key_field = facts.primary_key[0]
        self._warnings = OnceWarnings(self._stream)

    @property
    def initial_token(self) -> Optional[Any]:
        # The first page of a window asks for the endpoint's page size in this sync, which a 422 may have lowered
        # (the requester reads `limit` from the token: a crowded second is asked with a larger one).
        return {"limit": self._limit()}

    def get_page_size(self) -> Optional[int]:
        return None  # `limit` travels in the token

    def _limit(self) -> int:
        return page_sizes.page_size_for(self.config, self._path)

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any] = None,
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        request, records = self._page(response)
        token, problem = self._next_token(request, records, last_page_token_value, response)
        self._warn(problem, response)
        paging.emitted_before.remember(self._stream, _phone_of(stream_slice), token)
        return token

    def _next_token(self, request: paging.PageRequest, records: List[Mapping[str, Any]], token: Optional[Any], response: requests.Response) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
        """(the next page's token or None, a problem to warn about once or None): each strategy's rule."""
        raise NotImplementedError

    def _page(self, response: requests.Response) -> Tuple[paging.PageRequest, List[Mapping[str, Any]]]:
        records = getattr(response, PAGE_RECORDS, None)
        if records is None:
            raise _bad_response(self._stream, response, "a page the connector could not read back")
        return paging.PageRequest.of(response.request.url if response.request else response.url), records

    def _warn(self, problem: Optional[str], response: requests.Response) -> None:
        if problem:
            self._warnings.warn_stream(f"{_path(response)}: {problem}")


def _phone_of(stream_slice: Optional[StreamSlice]) -> Optional[str]:
    return stream_slice.partition.get("phone") if stream_slice is not None else None


@dataclass
class NewestFirstTimePaging(_ListPaging):
    """Pages a time window by time, not by offset (paging.py): the next page ends where the last one did."""

    def _next_token(self, request: paging.PageRequest, records: List[Mapping[str, Any]], token: Optional[Any], response: requests.Response) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
        page = paging.TimePage(request, [r.get(self._cursor_field) for r in records], [r.get(self._key_field) for r in records])
        largest = page_sizes.largest_page_size_for(self.config, self._path)
        return paging.next_time_token(page, token, self._limit(), largest)


@dataclass
class OverlappingOffsetPaging(_ListPaging):
    """Pages a list that has no time filter by offset, each page overlapping the one before (paging.py)."""

    def _next_token(self, request: paging.PageRequest, records: List[Mapping[str, Any]], token: Optional[Any], response: requests.Response) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
        keys = [r.get(self._key_field) for r in records]
        if keys and token and keys == list(token.get("seen") or []):
            raise AirbyteTracedException(
                message=f"Stream {self._stream}: Periskope returned the same page for offset {request.offset} of "
                f"{_path(response)} as for the offset before: it seems to ignore `offset`. Stopped rather than read the "
                "same records forever.",
                failure_type=FailureType.system_error,
            )
        return paging.next_overlap_token(request, keys, token, self._limit())


@dataclass
class EmittedRecords(RecordFilter):
    """Which records of a page are emitted, completed with their detail fields (details.py).

    The streams the API cannot filter by time (tickets, contacts, phones) are filtered here: in an incremental sync,
    the records whose cursor is at or after the saved state less lookback_days (or start_date, before the first
    sync) are kept; the read plan computes that floor (`read_plan.floor_of`). A full refresh keeps every record, and
    so does an incremental sync for a record whose cursor is missing or not a date, or lies in the future: a record
    is never dropped for what the filter cannot judge. Phone-scoped streams have no floor: every record is kept.
    Detail requests are made for the records kept only, through the number the page was read through.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._cursor_field = parameters.get("cursor_key", "")
        self._floor = floor_of(self.config, parameters.get("name", "?"))
        # Detail values arrive after NormalizeRecord ran (transform_before_filtering): they are normalised here.
        self._details = DetailRequests(parameters.get("name", "?"), self.config, NormalizeRecord(parameters=parameters).field_value)

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        kept = records if self._floor is None else filter(self._is_changed, records)
        if not self._details.active:
            return kept
        phone = stream_slice.partition.get("phone") if stream_slice is not None else None
        return self._details.complete(list(kept), phone)

    def _is_changed(self, record: Mapping[str, Any]) -> bool:
        moment = parse_cursor(record.get(self._cursor_field))
        return moment is None or moment >= self._floor


@dataclass
class PacedBearerAuthenticator(DeclarativeAuthenticator):
    """`Authorization: Bearer <api key>`, with every request paced by the API key's quota (pacing.py), and never
    following a redirect off https or to another host (redirects.py).

    The CDK's HttpClient signs each attempt of a request with its authenticator (retries included) and shows it each
    response (its ResponseAwareAuthenticator protocol, made for quota-tracking authenticators): every request of every
    stream, number and thread waits its turn in the one Pacer of the key, and every response tells it what is left.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    api_token: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._token = InterpolatedString.create(self.api_token, parameters=parameters).eval(self.config)
        self._pacer = pacer_for(self.config.get("base_url", ""), self._token)
        self._clock = clock_for(self.config.get("base_url", ""))

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Bearer {self._token}"

    def __call__(self, request: requests.PreparedRequest) -> Any:
        # Called again for each retry: an attempt that got no answer (a reset connection) no longer counts in flight.
        self._pacer.release(getattr(request, REQUEST_NUMBER, None))
        setattr(request, REQUEST_NUMBER, self._pacer.wait_turn())
        if refuse_unsafe_redirect not in request.hooks["response"]:
            request.register_hook("response", refuse_unsafe_redirect)
        return super().__call__(request)

    def update_from_response(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        self._pacer.observe(getattr(request, REQUEST_NUMBER, None), response.status_code, response.headers)
        self._clock.observe(response.headers)  # server_clock.py: the state's bound on the API's clock


REQUEST_NUMBER = "periskope_request_number"  # on each prepared request: its number in the Pacer


@dataclass
class ErrorHandlerThatTrustsSuccess(DefaultErrorHandler):
    """The DefaultErrorHandler, without evaluating its response filters on a successful (2xx) response, and
    learning the page size an endpoint accepts from a 422 about `limit`.

    A filter with a `predicate` decodes the whole body again to evaluate it, on every page: that was 16% of a
    sync's CPU. None of our filters acts on a 2xx response, so the result is the same.
    """

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response):
            if response_or_exception.ok:
                return SUCCESS_RESOLUTION
            smaller = _smaller_page_size(response_or_exception)
            if smaller is not None:
                return smaller
        return super().interpret_response(response_or_exception)


def _smaller_page_size(response: requests.Response) -> Optional[ErrorResolution]:
    """A 422 about `limit`: the bound it names becomes the endpoint's page size for the rest of the sync
    (page_sizes.py), and the page is asked again from the start of its window with it."""
    refused = paging.PageRequest.of(response.request.url if response.request else response.url).limit
    bound = page_sizes.learn_from_rejection(response, refused)
    if bound is None:
        return None  # no such refusal, or limit=1 refused: the manifest's filters fail the stream with the API's message
    body = response.json()
    logger.info(f"Periskope refused page size {refused} for {_path(response)} ({body.get('message')}); asking for {bound}.")
    return ErrorResolution(
        response_action=ResponseAction.RESET_PAGINATION,
        failure_type=FailureType.transient_error,
        error_message=f"Periskope refused page size {refused}; reading pages of {bound}.",
    )
