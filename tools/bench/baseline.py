"""The benchmark's baseline: the least a Periskope reader has to do, with plain `requests` and the standard `json`.

    python -m tools.bench.baseline --base-url URL --api-key KEY --phone 919876543210 \
        --streams messages --page-size 1000 > records.jsonl

Pages sequentially through each stream's list endpoint (`GET <path>?offset=..&limit=..` with the Bearer and x-phone
headers, one requests.Session), parses each page with `json.loads` and writes every record as an Airbyte RECORD
line to stdout. A short page ends a stream. No retries, windows, state, schemas or normalisation: this is the
yardstick the connector's throughput is divided by (python -m tools.bench), not a connector. It keeps its own
table of endpoints and imports nothing from this project, so that its start-up (timed) stays that of requests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import requests

# stream -> (path, keys the records may be under (first present wins; None = the body is a bare array), per phone?)
ENDPOINTS: Dict[str, Tuple[str, Optional[Tuple[str, ...]], bool]] = {
    "tickets": ("/tickets", ("tickets",), False),
    "messages": ("/chats/messages", ("messages",), True),
    "chats": ("/chats", ("chats",), True),
    "contacts": ("/contacts", ("contacts",), False),
    "notifications": ("/chats/notifications", ("messages", "notifictions", "notifications"), True),
    "notes": ("/note", ("notes",), True),
    "reactions": ("/reactions", ("reactions",), True),
    "phones": ("/phones/all", None, False),
}


def records_in(body: Any, keys: Optional[Tuple[str, ...]]) -> List[Any]:
    if keys is None:
        return body
    for key in keys:
        if key in body:
            return body[key]
    raise SystemExit(f"no records key {keys} in a page: {str(body)[:300]}")


def read_stream(session: requests.Session, base_url: str, stream: str, phone: str, page_size: int, out) -> int:
    path, keys, per_phone = ENDPOINTS[stream]
    headers = {"x-phone": phone} if per_phone else {}
    url = base_url + path
    written = 0
    offset = 0
    while True:
        params = None if keys is None else {"offset": offset, "limit": page_size}
        response = session.get(url, params=params, headers=headers, timeout=(10, 60))
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code} from {response.url}: {response.text[:300]}")
        records = records_in(json.loads(response.content), keys)
        emitted_at = int(time.time() * 1000)
        for record in records:
            message = {"type": "RECORD", "record": {"stream": stream, "data": record, "emitted_at": emitted_at}}
            out.write(json.dumps(message, separators=(",", ":")))
            out.write("\n")
        written += len(records)
        if keys is None or len(records) < page_size:
            return written
        offset += len(records)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8765/v1")
    parser.add_argument("--api-key", default="test-api-key")
    parser.add_argument("--phone", action="append", required=True, help="x-phone value; repeatable")
    parser.add_argument("--streams", default="messages", help=f"comma-separated: {', '.join(ENDPOINTS)}")
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args(argv)
    streams = [s.strip() for s in args.streams.split(",") if s.strip()]
    unknown = [s for s in streams if s not in ENDPOINTS]
    if unknown:
        parser.error(f"unknown stream(s) {', '.join(unknown)}; known: {', '.join(ENDPOINTS)}")

    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {args.api_key}", "Accept": "application/json"})
    out = sys.stdout
    base_url = args.base_url.rstrip("/")
    for stream in streams:
        phones = args.phone if ENDPOINTS[stream][2] else args.phone[:1]
        for phone in phones:
            read_stream(session, base_url, stream, phone, args.page_size, out)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
