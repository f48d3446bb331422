"""Fields the list endpoints leave out, fetched from the single-record endpoints for the records that need them.

| stream   | field      | endpoint (contract 2.2)                         | fetched for                         | option (default)                |
|----------|------------|-------------------------------------------------|-------------------------------------|---------------------------------|
| tickets  | closed_by  | GET /tickets/{ticket_id}, in its `ticket` object | a closed ticket                     | fetch_ticket_closed_by (on)     |
| messages | reactions  | GET /message/{message_id}, with x-phone          | a message whose has_reaction is true | fetch_message_reactions (off)   |
| contacts | chat_ids   | GET /contacts/{contact_id, digits only}          | every contact                       | fetch_contact_chat_ids (off)    |

They run after the incremental filter, so an incremental sync fetches them only for the records it emits. Per page,
the records that need one are fetched side by side (num_workers at once), each request through the one pace of the
API key and the retries of a sync (api.get with sync_patience, request_timeout_seconds per answer), before the page's
records are emitted. A record whose detail cannot be had after those retries (deleted meanwhile: 404; gone: 410; a
persistent 5xx, a timeout) is emitted without the field: one record must not fail its stream on every sync. Each
stream logs one warning at the end of the read, with the count and the first failure (`missing_report`). Only a 401
or 403 fails the stream: the key itself was refused. A value passes through the same normalisation as the list's
fields (a JSON-encoded chat_ids becomes an array).

Why not the CDK's child streams: a child stream emits its own records into its own table, while these fields belong
on the parent's row. Why not a transformation per record: it would fetch one record at a time in the reader thread.
A message whose has_reaction is null is not fetched: null says nothing, and fetching every such message would cost a
request per message; the reactions stream has every reaction.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.api import ApiProblem, get, server_message, sync_patience
from source_periskope.config import DETAIL_DEFAULTS
from source_periskope.normalize import loads_json, not_utf8, without_lone_surrogates

logger = logging.getLogger("airbyte")


@dataclass(frozen=True)
class Detail:
    field: str
    option: str
    path: str  # with {} for the record's id
    needs: Callable[[Mapping[str, Any]], bool]
    record_id: Callable[[Mapping[str, Any]], Optional[str]]
    value: Callable[[Any], Any]  # from the by-id answer
    with_phone: bool = False


def _digits(contact_id: Any) -> Optional[str]:
    return str(contact_id).split("@")[0] if contact_id else None


def _is_closed(ticket: Mapping[str, Any]) -> bool:
    return ticket.get("status") == "closed" or bool(ticket.get("closed_at"))


DETAILS: Dict[str, Detail] = {
    "tickets": Detail("closed_by", "fetch_ticket_closed_by", "/tickets/{}", _is_closed, lambda r: r.get("ticket_id"),
                      lambda body: (body.get("ticket") or {}).get("closed_by") if isinstance(body, dict) else None),
    "messages": Detail("reactions", "fetch_message_reactions", "/message/{}", lambda r: r.get("has_reaction") is True,
                       lambda r: r.get("message_id"), lambda body: body.get("reactions") if isinstance(body, dict) else None,
                       with_phone=True),
    "contacts": Detail("chat_ids", "fetch_contact_chat_ids", "/contacts/{}", lambda r: True, lambda r: _digits(r.get("contact_id")),
                       lambda body: body.get("chat_ids") if isinstance(body, dict) else None),
}

_executors: Dict[int, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()


def _executor(workers: int) -> ThreadPoolExecutor:
    with _executors_lock:
        if workers not in _executors:
            _executors[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="details")
        return _executors[workers]


@dataclass
class _Missing:
    count: int = 0
    first: str = ""  # the first failure: its request and what it answered


# stream -> the records emitted without their detail in this read (one warning each at its end: missing_report).
_missing_by_stream: Dict[str, _Missing] = {}
_missing_lock = threading.Lock()


def missing_report() -> List[str]:
    """One warning per stream that emitted records without their detail field since the last call."""
    with _missing_lock:
        found = dict(_missing_by_stream)
        _missing_by_stream.clear()
    return [
        f"Stream {stream}: {missing.count} record{'s' if missing.count > 1 else ''} emitted without "
        f"{DETAILS[stream].field}: its single-record request could not be had after its retries (first: {missing.first}). "
        "A later sync fills it if the record is emitted again."
        for stream, missing in sorted(found.items())
    ]


class DetailRequests:
    """Fills one stream's detail field on the records of a page (see the module docstring)."""

    def __init__(self, stream: str, config: Mapping[str, Any], normalize: Callable[[str, Any], Any] = lambda _, v: v) -> None:
        self._stream = stream
        self._config = config
        self._normalize = normalize  # (field, value) -> the value as the list's fields are normalised
        detail = DETAILS.get(stream)
        self._detail = detail if detail and config.get(detail.option, DETAIL_DEFAULTS[detail.option]) else None
        self._patience = sync_patience(config)  # request_timeout_seconds per answer, like the streams
        self._warned_encoding = False

    @property
    def active(self) -> bool:
        return self._detail is not None

    def complete(self, records: List[Dict[str, Any]], phone: Optional[str] = None) -> List[Dict[str, Any]]:
        detail = self._detail
        if detail is None:
            return records
        wanted = [record for record in records if detail.needs(record) and detail.record_id(record)]
        if wanted:
            workers = max(1, int(self._config.get("num_workers", 4)))
            values = _executor(workers).map(lambda record: self._fetch(detail, record, phone), wanted)
            for record, (found, value) in zip(wanted, list(values)):
                if found:
                    record[detail.field] = self._normalize(detail.field, value)
        return records

    def _fetch(self, detail: Detail, record: Mapping[str, Any], phone: Optional[str]) -> Any:
        path = detail.path.format(quote(str(detail.record_id(record)), safe="@"))
        try:
            response = get(self._config, path, phone=phone if detail.with_phone else None, patience=self._patience)
        except ApiProblem as problem:  # no answer after the retries (timeouts, dropped connections)
            return self._without_value(path, str(problem))
        if response.status_code in (401, 403):  # the key itself was refused: every request would be
            raise self._failure(path, f"HTTP {response.status_code} {server_message(response)}".strip(), FailureType.config_error)
        if response.status_code != 200:
            reason = " (deleted meanwhile?)" if response.status_code == 404 else ""
            return self._without_value(path, f"HTTP {response.status_code} {server_message(response)}".strip() + reason)
        try:
            body, lenient = loads_json(response.content)
        except ValueError:
            return self._without_value(path, "an answer that is not JSON")
        if lenient and not_utf8(response.content):
            self._warn_encoding_once(path)
        value = detail.value(body)
        return True, without_lone_surrogates(value)[0] if lenient else value

    def _without_value(self, path: str, problem: str) -> Tuple[bool, None]:
        with _missing_lock:
            missing = _missing_by_stream.setdefault(self._stream, _Missing())
            missing.count += 1
            missing.first = missing.first or f"GET {path}: {problem}"
        return False, None

    def _failure(self, path: str, problem: str, kind: FailureType) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=f"Stream {self._stream}: GET {path} (for {self._detail.field}) failed: {problem}.",
            failure_type=kind,
        )

    def _warn_encoding_once(self, path: str) -> None:
        if not self._warned_encoding:
            self._warned_encoding = True
            logger.warning(
                f"Stream {self._stream}: the answer to GET {path} held bytes that are not UTF-8; each is written as "
                "U+FFFD (further cases are not logged)."
            )
