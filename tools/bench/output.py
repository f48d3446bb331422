"""A run's stdout, drained and counted on the fly: RECORD lines counted, error traces (and STATE lines if asked) kept."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, Dict, List, Optional

RECORD_PREFIX = b'{"type":"RECORD"'
STATE_PREFIX = b'{"type":"STATE"'
ERROR_PREFIX = b'{"type":"TRACE","trace":{"type":"ERROR"'


class OutputCounter(threading.Thread):
    """Drains a child's stdout in large chunks, counting RECORD lines; keeps error traces (and STATE lines if asked)."""

    def __init__(self, fd: int, started: float, keep_states: bool) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.started = started
        self.keep_states = keep_states
        self.records = 0
        self.first_record_at: Optional[float] = None
        self.states: List[bytes] = []
        self.errors: List[bytes] = []

    def run(self) -> None:
        tail = b""  # an incomplete last line, carried to the next chunk
        needle = b"\n" + RECORD_PREFIX
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            buffer = tail + chunk if tail else chunk
            cut = buffer.rfind(b"\n") + 1
            if cut == 0:
                tail = buffer
                continue
            block, tail = buffer[:cut], buffer[cut:]  # block starts at a line start and ends with a newline
            found = block.count(needle) + block.startswith(RECORD_PREFIX)
            if found:
                if self.first_record_at is None:
                    self.first_record_at = time.perf_counter() - self.started
                self.records += found
            self._keep_lines(block)
        if tail.startswith(RECORD_PREFIX):
            self.records += 1
        if tail:
            self._keep_lines(tail + b"\n")
        os.close(self.fd)

    def _keep_lines(self, block: bytes) -> None:
        if self.keep_states:
            self._keep(block, STATE_PREFIX, self.states)
        self._keep(block, ERROR_PREFIX, self.errors)

    @staticmethod
    def _keep(block: bytes, prefix: bytes, into: List[bytes]) -> None:
        """Appends the lines starting with `prefix` of a block of whole lines (rare lines: one fast scan)."""
        needle = b"\n" + prefix
        start = 0 if block.startswith(prefix) else block.find(needle) + 1 or -1
        while start >= 0:
            end = block.index(b"\n", start)
            into.append(block[start:end])
            start = block.find(needle, end) + 1 or -1

    def error_messages(self) -> List[str]:
        messages = []
        for line in self.errors:
            error = json.loads(line)["trace"]["error"]
            messages.append(error.get("message") or error.get("internal_message") or "")
        return messages

    def final_states(self) -> List[Dict[str, Any]]:
        """The last STATE message of each stream, as a --state file wants them."""
        latest: Dict[str, Dict[str, Any]] = {}
        for line in self.states:
            state = json.loads(line)["state"]
            stream = state.get("stream") or {}
            latest[stream.get("stream_descriptor", {}).get("name", "?")] = state
        return list(latest.values())
