"""The fake Periskope server's command line: `python -m integration_tests.fake_periskope`.

Run: .venv/bin/python -m pytest integration_tests/test_fake_cli.py -q
"""

import os
import signal
import subprocess
import sys

import pytest
import requests

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.support.paths import PROJECT_ROOT



def test_cli_serves_until_sigterm():
    command = [sys.executable, "-m", "integration_tests.fake_periskope", "--port", "0", "--messages", "2000",
               "--size", "tickets=12", "--fault", "500:1:/tickets"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("FAKE_PERISKOPE_URL=http://127.0.0.1:") and line.endswith("/v1")
        url = line.split("=", 1)[1]
        headers = {"Authorization": "Bearer test-api-key", "x-phone": "919876543210"}
        assert requests.get(f"{url}/tickets", headers=headers, timeout=10).status_code == 500
        assert requests.get(f"{url}/tickets", headers=headers, timeout=10).json()["count"] == 12
        assert requests.get(f"{url}/chats/messages", headers=headers, params={"offset": 1999}, timeout=10).json()["count"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_cli_refuses_non_loopback_hosts():
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):
        result = subprocess.run([sys.executable, "-m", "integration_tests.fake_periskope", "--host", host],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30,
                                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        assert result.returncode == 2 and "non-loopback" in result.stderr
    with pytest.raises(ValueError):
        FakePeriskope(host="0.0.0.0")
