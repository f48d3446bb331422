"""Fields the list endpoints leave out, fetched from the single-record endpoints for the records that need them.

| stream   | field      | endpoint (contract 2.2)                         | fetched for                         | option (default)                |
|----------|------------|-------------------------------------------------|-------------------------------------|---------------------------------|
| tickets  | closed_by  | GET /tickets/{ticket_id}, in its `ticket` object | a closed ticket                     | fetch_ticket_closed_by (on)     |
| messages | reactions  | GET /message/{message_id}, with x-phone          | a message whose has_reaction is true | fetch_message_reactions (off)   |
| contacts | chat_ids   | GET /contacts/{contact_id, digits only}          | every contact                       | fetch_contact_chat_ids (off)    |

They run after the incremental filter, so an incremental sync fetches them only for the records it emits. Per page,
the records that need one are fetched side by side (num_workers at once), each request through the one pace of the
API key and the retries of a sync (api.get with sync_patience), before the page's records are emitted. A record
deleted meanwhile (404) is emitted without the field, with one warning; any other failure fails the stream with an
error naming it and the request, as any request's would.

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
from typing import Any, Callable, Dict, List, Mapping, Optional
from urllib.parse import quote

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.api import ApiProblem, get, server_message, sync_patience
from source_periskope.config import DETAIL_DEFAULTS
from source_periskope.normalize import loads_json, without_lone_surrogates

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


class DetailRequests:
    """Fills one stream's detail field on the records of a page (see the module docstring)."""

    def __init__(self, stream: str, config: Mapping[str, Any]) -> None:
        self._stream = stream
        self._config = config
        detail = DETAILS.get(stream)
        self._detail = detail if detail and config.get(detail.option, DETAIL_DEFAULTS[detail.option]) else None
        self._warned = False

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
                    record[detail.field] = value
        return records

    def _fetch(self, detail: Detail, record: Mapping[str, Any], phone: Optional[str]) -> Any:
        path = detail.path.format(quote(str(detail.record_id(record)), safe="@"))
        try:
            response = get(self._config, path, phone=phone if detail.with_phone else None, patience=sync_patience(self._config))
        except ApiProblem as problem:
            raise self._failure(path, str(problem), FailureType.system_error) from None
        if response.status_code == 404:
            self._warn_once(path)
            return False, None
        if response.status_code != 200:
            kind = FailureType.config_error if response.status_code in (401, 403, 422) else FailureType.system_error
            raise self._failure(path, f"HTTP {response.status_code} {server_message(response)}".strip(), kind)
        try:
            body, lenient = loads_json(response.content)
        except ValueError:
            raise self._failure(path, "an answer that is not JSON", FailureType.system_error) from None
        value = detail.value(body)
        return True, without_lone_surrogates(value)[0] if lenient else value

    def _failure(self, path: str, problem: str, kind: FailureType) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=f"Stream {self._stream}: GET {path} (for {self._detail.field}) failed: {problem}.",
            failure_type=kind,
        )

    def _warn_once(self, path: str) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(
                f"Stream {self._stream}: GET {path} answered 404 (the record was deleted meanwhile?): it is emitted "
                f"without {self._detail.field} (further cases are not logged)."
            )
