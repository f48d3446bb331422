"""Helpers of the tools/ scripts only (the tests never import tools/): the progress line, the demo's connector config."""

from __future__ import annotations

import sys
import time
from typing import Any, Dict, Optional

FAKE_API_KEY = "test-api-key"  # the fake server's default --api-key
FAKE_PHONES = ("919876543210", "918527184400")  # its two connected numbers when started with the default sizes


def demo_config(base_url: str) -> Dict[str, Any]:
    """The config of `make demo` and `make duckdb`: both numbers of a fake server started with its defaults."""
    return {"api_key": FAKE_API_KEY, "phone_number": FAKE_PHONES[0], "additional_phone_numbers": [FAKE_PHONES[1]],
            "base_url": base_url}


class ProgressLine:
    """One status line. On a terminal it is rewritten in place at every show(); elsewhere (a log file) show() prints
    a new line at most every `log_every` seconds (never when None). done() always leaves the final text on its own line.
    """

    def __init__(self, log_every: Optional[float] = None) -> None:
        self.in_place = sys.stdout.isatty()
        self.log_every = log_every
        self._logged_at: Optional[float] = None

    def show(self, text: str) -> None:
        if self.in_place:
            print(f"\r\033[K{text}", end="", flush=True)
        elif self.log_every is not None:
            now = time.monotonic()
            if self._logged_at is None or now - self._logged_at > self.log_every:
                self._logged_at = now
                print(text, flush=True)

    def done(self, text: str) -> None:
        print(f"\r\033[K{text}" if self.in_place else text, flush=True)
