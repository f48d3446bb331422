"""The bundled fake Periskope server as its own process (as the demo, the DuckDB demo and the benchmark need it),
and the connector config that points at a fake server (in-process or not)."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple, Union

from integration_tests.support.paths import PROJECT_ROOT

URL_PREFIX = "FAKE_PERISKOPE_URL="


def start_fake_server(*args: str, stderr: Optional[Union[int, IO]] = None) -> Tuple[subprocess.Popen, str]:
    """Starts `python -m integration_tests.fake_periskope --port 0 <args>`; returns the process and its base URL."""
    command: List[str] = [sys.executable, "-m", "integration_tests.fake_periskope", "--port", "0", *args]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    return process, _announced_url(process)


def stop_fake_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def fake_server_process(*args: str) -> Iterator[str]:
    """Yields the server's base URL; the server is stopped on exit."""
    process, url = start_fake_server(*args)
    try:
        yield url
    finally:
        stop_fake_server(process)


def _announced_url(process: subprocess.Popen) -> str:
    for line in process.stdout:
        if line.startswith(URL_PREFIX):
            return line[len(URL_PREFIX):].strip()
    raise RuntimeError(f"the fake Periskope server exited ({process.wait()}) before announcing its URL")


def connector_config(server, **overrides: Any) -> Dict[str, Any]:
    """A config for a FakePeriskope: its key and URL, its connected numbers (the first one as phone_number)."""
    numbers = [phone["number"] for phone in server.phones if phone["wa_state"] == "CONNECTED"]
    return {
        "api_key": server.api_key,
        "phone_number": numbers[0],
        "additional_phone_numbers": numbers[1:],
        "base_url": server.base_url,
        **overrides,
    }
