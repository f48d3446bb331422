"""The fake Periskope as a separate process (its CPU is not the connector's), with its admin API's request counts."""

from __future__ import annotations

import json
import tempfile
import urllib.request
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

from integration_tests.support.servers import start_fake_server, stop_fake_server
from tools.bench.metrics import process_cpu_seconds


class FakeServer:
    def __init__(self, args: List[str]) -> None:
        # Its log (and tracebacks about clients killed by --timeout) would break the progress line: kept aside.
        self.log = tempfile.TemporaryFile()
        try:
            self.process, self.base_url = start_fake_server(*args, stderr=self.log)
        except RuntimeError as error:
            self.log.seek(0)
            raise RuntimeError(f"{error}:\n" + self.log.read().decode(errors="replace")[-3000:]) from None
        parts = urlsplit(self.base_url)
        self.admin_url = f"{parts.scheme}://{parts.netloc}/_admin"

    def stats(self) -> Dict[str, Any]:
        with urllib.request.urlopen(f"{self.admin_url}/stats", timeout=60) as response:
            return json.loads(response.read())

    def cpu_seconds(self) -> Optional[float]:
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        stop_fake_server(self.process)
        self.log.close()
