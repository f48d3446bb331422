"""Responses built from the contract's example responses (unit_tests/resource/http/response/<stream>.json)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

from airbyte_cdk.test.mock_http import HttpResponse
from airbyte_cdk.test.mock_http.response_builder import find_template

from source_periskope.normalize import from_iso
from source_periskope.paging import OVERLAP
from unit_tests.stream_table import STREAMS

RECORDS_KEY = {name: stream.records_key for name, stream in STREAMS.items()}
ID_FIELD = {name: stream.id_field for name, stream in STREAMS.items()}
CURSOR_FIELD = {name: stream.cursor for name, stream in STREAMS.items()}


def template(stream: str) -> Any:
    return find_template(stream, __file__)


def example_records(stream: str) -> List[Dict[str, Any]]:
    """The records of the contract's example response, as the API sends them."""
    body = template(stream)
    return copy.deepcopy(body if RECORDS_KEY[stream] is None else body[RECORDS_KEY[stream]])


def a_record(stream: str, **fields: Any) -> Dict[str, Any]:
    record = example_records(stream)[0]
    record.update(fields)
    return record


def records(stream: str, count: int, newest: str = "2026-11-10T10:00:00+00:00", **fields: Any) -> List[Dict[str, Any]]:
    """`count` distinct records, newest first, one minute apart."""
    newest_time = from_iso(newest)
    made = []
    for position in range(count):
        moment = (newest_time - timedelta(minutes=position)).isoformat()
        made.append(a_record(stream, **{ID_FIELD[stream]: f"{stream}-{position}", CURSOR_FIELD[stream]: moment, **fields}))
    return made


SECOND_OFFSET = 100 - OVERLAP  # where the second page of 100 starts


def after_overlap(previous_page: List[Dict[str, Any]], more: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The next page of an offset-paged list (tickets, contacts): it starts OVERLAP records before the previous
    page ended (source_periskope/paging.py), so it repeats that page's last records."""
    return previous_page[len(previous_page) - OVERLAP:] + more


def offset_pages(listed: List[Dict[str, Any]], limit: int = 100) -> List[Tuple[int, List[Dict[str, Any]]]]:
    """(offset, records) of each page the connector asks for while reading `listed` by offset, each page starting
    OVERLAP records before the previous one ended, until a short page."""
    pages, offset = [], 0
    while True:
        chunk = listed[offset : offset + limit]
        pages.append((offset, chunk))
        if len(chunk) < limit:
            return pages
        offset += limit - OVERLAP


def page(stream: str, page_records: List[Dict[str, Any]], offset: int = 0, records_key: Optional[str] = None) -> HttpResponse:
    key = records_key or RECORDS_KEY[stream]
    if key is None:
        return HttpResponse(json.dumps(page_records))
    body = {"from": offset + 1, "to": offset + len(page_records), "count": len(page_records), key: page_records}
    return HttpResponse(json.dumps(body))


def error(status: int, body: Optional[Dict[str, Any]] = None, headers: Optional[Dict[str, str]] = None) -> HttpResponse:
    return HttpResponse(json.dumps(body or {"message": f"error {status}"}), status_code=status, headers=headers or {})
