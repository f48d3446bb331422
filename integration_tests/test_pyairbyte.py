"""PyAirbyte reads source-periskope into its default DuckDB cache, offline, and the rows match the fake server.

PyAirbyte (PyPI `airbyte`) has a large dependency tree of its own (DuckDB, SQLAlchemy, pandas, pyarrow, Google
Cloud and Snowflake clients, ...) with exact pins, so it never goes into the connector's venv. This test keeps a
second venv, .venv-pyairbyte/ at the project root (git-ignored), built from integration_tests/pyairbyte-
requirements.txt: created when missing, rebuilt from scratch when that file or the Python version changed (the
stamp .venv-pyairbyte/.installed holds their hash), reused otherwise. Install log: .tmp/pyairbyte/install.log.

It then runs integration_tests/pyairbyte_read.py in that venv. The script points PyAirbyte at the connector's
console script beside the Python running pytest (`get_source(local_executable=..., install_if_missing=False)`),
sets AIRBYTE_OFFLINE_MODE=1 and DO_NOT_TRACK=1 (no registry fetch, no telemetry), refuses any non-loopback
connection in its own process, and reads every stream with write_strategy="append" into the default DuckDB cache
in a temp folder. Append keeps one row per emitted record, so a duplicate shows as an extra row; the "auto"
default would MERGE on the primary key and hide it.

Asserted per stream: rows == len(server.records(stream)) (the phone-scoped streams have one row per
(id, org_phone)), no duplicate primary keys, and the set of primary keys equals the server's.

If the venv cannot be built (no package index reachable, ...) the test is skipped with a loud message, except with
CI=true, where it fails. It runs in `make test` (and so in CI); alone:

    .venv/bin/python -m pytest integration_tests/test_pyairbyte.py -q
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from integration_tests.conftest import connector_config
from integration_tests.connector_cli import STREAMS
from integration_tests.container.image import say as _say
from integration_tests.fake_periskope import FakePeriskope
from integration_tests.test_cli_sync import PRIMARY_KEYS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = PROJECT_ROOT / "integration_tests" / "pyairbyte-requirements.txt"
READ_SCRIPT = PROJECT_ROOT / "integration_tests" / "pyairbyte_read.py"
VENV = PROJECT_ROOT / ".venv-pyairbyte"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed"
WORK = PROJECT_ROOT / ".tmp" / "pyairbyte"
INSTALL_LOG = WORK / "install.log"
LOCK = WORK / "venv.lock"
INSTALL_TIMEOUT_SECONDS = 20 * 60
READ_TIMEOUT_SECONDS = 10 * 60
ON_CI = os.environ.get("CI", "").lower() == "true"

# Small, but every stream still reads several pages of PAGE_SIZE.
SIZES = {"chats": 10, "messages": 80, "notifications": 15, "notes": 12, "reactions": 25, "tickets": 30, "contacts": 45}
PAGE_SIZE = 10


def _unavailable(config: pytest.Config, reason: str) -> None:
    message = (
        f"PYAIRBYTE TEST NOT RUN: {reason}. Reading source-periskope with PyAirbyte is untested here. It needs "
        f"a package index to build {VENV}/ from {REQUIREMENTS} once (log: {INSTALL_LOG})."
    )
    _say(config, "\n[test_pyairbyte] " + message)
    if ON_CI:
        pytest.fail(message + " CI=true, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


def _stamp() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"python {sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _build_venv(config: pytest.Config) -> None:
    """Builds VENV from scratch into a clean folder; the stamp is written last, so a half-built venv is rebuilt."""
    shutil.rmtree(VENV, ignore_errors=True)
    started = time.monotonic()
    _say(config, f"\n[test_pyairbyte] building {VENV.name}/ from {REQUIREMENTS.name} (log: {INSTALL_LOG})")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
    ]
    with open(INSTALL_LOG, "w") as log:
        for step in steps:
            log.write(f"$ {' '.join(step)}\n")
            log.flush()
            try:
                returncode = subprocess.run(
                    step, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    timeout=INSTALL_TIMEOUT_SECONDS, env=env,
                ).returncode
            except subprocess.TimeoutExpired:
                returncode = None
            if returncode != 0:
                what = f"timed out after {INSTALL_TIMEOUT_SECONDS}s" if returncode is None else f"exited {returncode}"
                log.flush()
                shutil.rmtree(VENV, ignore_errors=True)
                _unavailable(config, f"`{' '.join(step[-3:])}` {what}; last lines of the log:\n{_tail(INSTALL_LOG)}\n")
    STAMP.write_text(_stamp())
    _say(config, f"[test_pyairbyte] {VENV.name}/ installed in {time.monotonic() - started:.1f}s")


@pytest.fixture(scope="module")
def pyairbyte_python(request: pytest.FixtureRequest) -> Path:
    """The PyAirbyte venv's Python: reused when its stamp matches the requirements file, else (re)built."""
    WORK.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:  # two pytest runs at once must not build the same venv together
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (STAMP.exists() and STAMP.read_text() == _stamp() and VENV_PYTHON.exists()):
            _build_venv(request.config)
        else:
            _say(request.config, f"\n[test_pyairbyte] reusing {VENV.name}/ (requirements unchanged)")
    return VENV_PYTHON


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePeriskope]:
    with FakePeriskope(seed=5, sizes=SIZES).start() as server:
        yield server


@pytest.fixture(scope="module")
def read_result(request: pytest.FixtureRequest, pyairbyte_python: Path, fake: FakePeriskope, tmp_path_factory) -> Dict[str, Any]:
    connector = Path(sys.executable).parent / "source-periskope"
    assert connector.exists(), f"no connector console script beside {sys.executable}: pip install -e . first"
    tmp = tmp_path_factory.mktemp("pyairbyte")
    config_path = tmp / "config.json"
    config_path.write_text(json.dumps(connector_config(fake, page_size=PAGE_SIZE)))
    output = tmp / "result.json"
    workdir = tmp / "work"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("AIRBYTE_")}
    started = time.monotonic()
    run = subprocess.run(
        [str(pyairbyte_python), str(READ_SCRIPT), "--executable", str(connector), "--config", str(config_path),
         "--workdir", str(workdir), "--output", str(output)],
        cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=READ_TIMEOUT_SECONDS,
    )
    elapsed = time.monotonic() - started
    assert run.returncode == 0 and output.exists(), (
        f"pyairbyte_read.py exited {run.returncode}\n--- stdout\n{run.stdout[-4000:]}\n--- stderr\n{run.stderr[-6000:]}"
    )
    result = json.loads(output.read_text())
    versions = ", ".join(f"{name} {version}" for name, version in result["versions"].items())
    _say(request.config, f"[test_pyairbyte] PyAirbyte read {result['processed_records']} records in {elapsed:.1f}s "
                         f"(read itself {result['read_seconds']}s; {versions})")
    result["workdir"] = str(workdir)
    return result


def test_pyairbyte_ran_offline_into_its_default_duckdb_cache(read_result):
    assert read_result["blocked_connections"] == [], "PyAirbyte tried to reach a non-loopback address"
    assert read_result["offline_mode"] == "1"
    assert read_result["cache"]["type"] == "DuckDBCache"
    db_path = Path(read_result["cache"]["db_path"])
    assert db_path.name == "default_cache.duckdb" and db_path.is_relative_to(read_result["workdir"])
    assert read_result["write_strategy"] == "append"


def test_pyairbyte_row_counts_match_the_fake_server_per_stream(read_result, fake):
    streams = read_result["streams"]
    assert sorted(streams) == sorted(STREAMS)
    counts = {stream: (streams[stream]["rows"], len(fake.records(stream))) for stream in STREAMS}
    assert all(rows == expected for rows, expected in counts.values()), f"(rows, server records) per stream: {counts}"
    assert read_result["processed_records"] == sum(expected for _, expected in counts.values())


def test_pyairbyte_rows_are_the_server_records_without_duplicates(read_result, fake):
    for stream in STREAMS:
        got = read_result["streams"][stream]
        assert got["primary_key"] == PRIMARY_KEYS[stream], stream
        assert got["distinct_keys"] == got["rows"], f"{stream}: duplicate primary keys in the cache"
        expected = {tuple(str(record[field]) for field in PRIMARY_KEYS[stream]) for record in fake.records(stream)}
        assert {tuple(key) for key in got["keys"]} == expected, stream
