from __future__ import annotations

from typing import Any, Dict, Optional

from airbyte_cdk.test.mock_http import HttpRequest

from unit_tests.mock_server.config import API_KEY, BASE_URL, PHONE
from unit_tests.stream_table import STREAMS

class PeriskopeRequestBuilder:
    """The exact request the connector must send: path, query and the auth and x-phone headers."""

    def __init__(self, stream: str, phone: Optional[str] = PHONE) -> None:
        self._path = STREAMS[stream].path
        self._headers = {"Authorization": f"Bearer {API_KEY}"}
        if STREAMS[stream].phone_scoped and phone:
            self._headers["x-phone"] = phone
        self._query: Dict[str, Any] = {}

    @classmethod
    def for_stream(cls, stream: str, phone: Optional[str] = PHONE) -> "PeriskopeRequestBuilder":
        return cls(stream, phone)

    def with_page(self, offset: int, limit: int = 100) -> "PeriskopeRequestBuilder":
        self._query.update(offset=str(offset), limit=str(limit))
        return self

    def with_window(self, start_time: str, end_time: str) -> "PeriskopeRequestBuilder":
        self._query.update(start_time=start_time, end_time=end_time)
        return self

    def with_times(self, start_time: Optional[str] = None, end_time: Optional[str] = None) -> "PeriskopeRequestBuilder":
        """A window with either end open (no start_time from all history's start; no end_time in a full refresh's last window)."""
        self._query.update({name: value for name, value in (("start_time", start_time), ("end_time", end_time)) if value})
        return self

    def as_probe(self, start_time: str, end_time: str) -> "PeriskopeRequestBuilder":
        """A one-record request the read plan makes before reading windows (end_time one second past the end)."""
        return self.with_window(start_time, end_time).with_page(0, limit=1)

    def build(self) -> HttpRequest:
        return HttpRequest(url=f"{BASE_URL}{self._path}", query_params=self._query or None, headers=self._headers)


DETAIL_PATHS = {"tickets": "/tickets/{}", "messages": "/message/{}", "contacts": "/contacts/{}"}


def detail_request(stream: str, record_id: str, phone: Optional[str] = None) -> HttpRequest:
    """GET of one record by id, for the fields the list endpoints leave out (details.py)."""
    headers = {"Authorization": f"Bearer {API_KEY}", **({"x-phone": phone} if phone else {})}
    return HttpRequest(url=f"{BASE_URL}{DETAIL_PATHS[stream].format(record_id)}", headers=headers)
