"""One HTTP request to the fake: /v1 (the API), /_admin (admin.py), or a 404.

Per /v1 request, in this order: the `on_request` hook, changes scheduled with
`at_request`, the request quota (a 429 ends it there), a fault drawn (if any),
then the endpoint (api.py); the fault is then rendered onto the response here.
Responses are JSON from orjson, or from json.dumps when a string holds a lone
surrogate (oddtext.to_json_bytes).
"""

import email.utils
import re
import socket
import struct
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from . import admin, api
from .oddtext import to_json_bytes

if TYPE_CHECKING:
    from .server import FakePeriskope

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


def api_path(path):
    """'/v1/chats/' or 'chats' -> '/chats' (how paths are logged)."""
    path = "/" + path.strip("/")
    if path == "/v1" or path.startswith("/v1/"):
        path = path[3:] or "/"
    return path


class RequestHandler(BaseHTTPRequestHandler):
    """Answers the requests of one connection for the FakePeriskope in `self.server.fake`."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its load balancer
    server_version = "FakePeriskope/1.0"

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def log_message(self, format, *args):  # noqa: A002 - keep test output clean
        pass

    def date_time_string(self, timestamp=None):
        # The Date header of every response tells the server's own clock (clock_behind_seconds, a pinned `now`).
        return super().date_time_string(self.fake.clock_seconds() if timestamp is None else timestamp)

    @property
    def fake(self) -> "FakePeriskope":
        return self.server.fake

    def _handle(self, method):
        url = urlsplit(self.path)
        body = self._read_body()
        query = _first_values(url.query)
        if url.path.startswith("/_admin/"):
            status, payload = admin.handle(self.fake, method, url.path, query, body)
            self.send(status, to_json_bytes(payload), JSON, self.fake.rate_limit_headers(count=False))
        elif url.path == "/v1" or url.path.startswith("/v1/"):
            self._handle_api(method, api_path(url.path), query)
        else:  # outside the API's base path: counted apart, so request_log paths stay /v1-relative
            self.fake.outside_api_requests[url.path] += 1  # before answering: a client may read the count at once
            payload = api.error_body(404, "NOT_FOUND", "Not Found", f"Cannot {method} {url.path}")
            self.send(404, to_json_bytes(payload), JSON, self.fake.rate_limit_headers())

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- the API ------------------------------------------------------------------------
    def _handle_api(self, method, path, query):
        fake = self.fake
        number = fake._next_request_number()
        status = 0
        headers = None
        fault = None
        try:
            if fake.on_request is not None:
                fake.on_request(number, path, query)
            fake.schedule.fire(number, path)
            key = _presented_key(self.headers.get("Authorization"))
            allowed, headers = fake._limit_headers(key)
            if not allowed:
                status = self.send(429, error_json(429, "RATE_LIMITED", "Too Many Requests", "Too many requests"),
                                   JSON, headers)
                return
            route, _params = api.match_route(path)
            fault = fake.faults.draw(path, is_list=route is not None and route.is_list)
            if fault is not None and fault.startswith("429") and fake.quota.enabled:
                fake.quota.refund(key)  # 429s never use up quota
            status = self._serve_api(method, path, query, fault, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (a timeout on a `slow` fault): nothing to answer
        except Exception:  # a bug here or in a test hook: answer 500 rather than hang the client
            traceback.print_exc(file=sys.stderr)
            body = error_json(500, "INTERNAL_SERVER_ERROR", "Internal Server Error", "fake server error")
            status = self.send(500, body, JSON, headers if headers is not None else fake.rate_limit_headers())
        finally:
            fake._log((method, path, query, self.headers.get("x-phone"), status), fault)

    def _serve_api(self, method, path, query, fault, headers):
        """Answer one request, applying `fault`, with these X-RateLimit-* headers; returns the status sent (0 if none)."""
        fake = self.fake
        if fault == "slow":
            time.sleep(fake.faults.slow_seconds)
        if fault == "reset":
            self._reset_connection()
            return 0
        if fault is not None and fault.startswith(("429", "5", "410")):
            return self._send_error_fault(fault, headers)
        status, payload = api.dispatch(
            fake, method, path, query, self.headers,
            ignore_offset=fault == "ignore_offset", missing_key=fault == "missing_key",
        )
        body = to_json_bytes(payload)
        if fault == "html":
            return self.send(200, _html_page("Something went wrong"), HTML, headers)
        if fault == "not_utf8":
            return self.send(status, _with_latin1_byte(body), JSON, headers)
        if fault == "malformed_json":
            return self.send(200, body[: max(1, len(body) // 2)], JSON, headers)
        if fault == "truncated":
            return self.send(status, body, JSON, headers, truncate=True)
        return self.send(status, body, JSON, headers)

    def _send_error_fault(self, kind, headers):
        fake = self.fake
        wait = fake.faults.retry_after_seconds
        if kind.startswith("429"):
            body = error_json(429, "RATE_LIMITED", "Too Many Requests", "Too many requests")
            return self.send(429, body, JSON, _rate_limited_headers(headers, kind, wait))
        status = int(kind)
        headers = dict(headers)
        if status in (502, 504):  # these come from a proxy in front of the API: HTML, not JSON
            title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}[status]
            return self.send(status, _html_page(title), HTML, headers)
        name = {410: "Gone", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
        body = error_json(status, name.upper().replace(" ", "_"), name, name)
        if status == 503:
            headers["Retry-After"] = str(wait)
        return self.send(status, body, JSON, headers)

    def _reset_connection(self):
        # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def send(self, status, body, content_type, headers, truncate=False):
        latency = self.fake.latency_ms
        if latency:
            time.sleep(latency / 1000)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        # A truncated response promises more bytes than it sends, then hangs up.
        self.send_header("Content-Length", str(len(body) + (len(body) // 2 + 64 if truncate else 0)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)
        self.wfile.flush()
        if truncate:
            self.close_connection = True
        return status


def error_json(status, code, name, message):
    """An error body (api.error_body) as JSON bytes."""
    return to_json_bytes(api.error_body(status, code, name, message))


def _presented_key(authorization):
    """The API key a request presents (what the quota counts by): the bearer token, else the raw header."""
    scheme, _, key = (authorization or "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else (authorization or "")


def _rate_limited_headers(base_headers, kind, wait):
    if kind == "429_bare":
        return {}
    if kind == "429_quota_left":  # the request was refunded: one more than counted at admission is left
        remaining = int(base_headers.get("X-RateLimit-Remaining", "0")) + 1
        return {**base_headers, "X-RateLimit-Remaining": str(remaining)}
    headers = {**base_headers, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(wait)}
    if kind == "429_retry_after":
        headers["Retry-After"] = str(wait)
    elif kind == "429_retry_after_date":
        # HTTP-dates have 1 s resolution: round up so the wait is never shorter than asked.
        headers["Retry-After"] = email.utils.formatdate(int(time.time()) + wait + 1, usegmt=True)
    elif kind == "429_reset_epoch":
        headers["X-RateLimit-Reset"] = str(int(time.time()) + wait + 1)
    return headers  # 429_reset_seconds: X-RateLimit-Reset is already the seconds to wait


# Where the `not_utf8` fault puts its byte: the first of these text fields, else the first string value (the JSON
# may come from orjson, compact, or from json.dumps, with a space after the colon).
_TEXT_VALUE = (re.compile(rb'"(?:body|subject|contact_name|chat_name|phone_name|reaction)":\s*"'), re.compile(rb'":\s*"'))


def _with_latin1_byte(body):
    """The body with "é" written in Latin-1 (one byte, 0xE9) at the start of a text value: not valid UTF-8, as a
    proxy or a legacy column in another encoding would send it."""
    for pattern in _TEXT_VALUE:
        found = pattern.search(body)
        if found:
            return body[: found.end()] + b"\xe9" + body[found.end():]
    return body  # no text value to hold the byte (an empty page): sent as it is


def _html_page(title):
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><center><h1>{title}</h1></center><hr><center>nginx</center></body></html>"
    ).encode()


def _first_values(query_string):
    return {name: values[0] for name, values in parse_qs(query_string, keep_blank_values=True).items()}
