"""Starts the bundled fake Periskope server as its own process (as the demo and benchmark need)."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List

PROJECT_ROOT = Path(__file__).resolve().parent.parent
URL_PREFIX = "FAKE_PERISKOPE_URL="


@contextmanager
def fake_server_process(*args: str) -> Iterator[str]:
    """Yields the server's base URL; the server is stopped on exit."""
    command: List[str] = [sys.executable, "-m", "integration_tests.fake_periskope", "--port", "0", *args]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = _announced_url(process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _announced_url(process: subprocess.Popen) -> str:
    for line in process.stdout:
        if line.startswith(URL_PREFIX):
            return line[len(URL_PREFIX):].strip()
    raise RuntimeError(f"the fake Periskope server exited ({process.wait()}) before announcing its URL")
