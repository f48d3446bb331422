"""PyAirbyte reads source-periskope into its default DuckDB cache, offline, and the rows match the fake server.

PyAirbyte (PyPI `airbyte`) has a large dependency tree of its own (DuckDB, SQLAlchemy, pandas, pyarrow, Google
Cloud and Snowflake clients, ...) with exact pins, so it never goes into the connector's venv. This test keeps a
second venv, .venv-pyairbyte/ at the project root (git-ignored), built from integration_tests/pyairbyte-
requirements.txt: created when missing, rebuilt from scratch when that file or the Python version changed (the
stamp .venv-pyairbyte/.installed holds their hash), reused otherwise (integration_tests/support/pyairbyte_venv.py,
shared with `make duckdb`). Install log: .tmp/pyairbyte/install.log.

It then runs tools/pyairbyte_read.py in that venv (by path: the script imports nothing from this project). The
script points PyAirbyte at the connector's console script beside the Python running pytest
(`get_source(local_executable=..., install_if_missing=False)`), sets AIRBYTE_OFFLINE_MODE=1 and DO_NOT_TRACK=1 (no
registry fetch, no telemetry), refuses any non-loopback connection in its own process, and reads every stream with
write_strategy="append" into the default DuckDB cache in a temp folder. Append keeps one row per emitted record,
so a duplicate shows as an extra row; the "auto" default would MERGE on the primary key and hide it.

Asserted per stream: rows == len(server.records(stream)) (the phone-scoped streams have one row per
(id, org_phone)), no duplicate primary keys, and the set of primary keys equals the server's.

If the venv cannot be built (no package index reachable, ...) the test is skipped with a loud message, except with
CI=true, where it fails. It runs in `make test` (and so in CI); alone:

    .venv/bin/python -m pytest integration_tests/test_pyairbyte.py -q
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.support import pyairbyte_venv
from integration_tests.support.not_run import pyairbyte_python as pyairbyte_python_or_not_run
from integration_tests.support.not_run import say
from integration_tests.support.pyairbyte_venv import READ_SCRIPT
from integration_tests.support.servers import connector_config
from unit_tests.stream_table import NAMES as STREAMS
from unit_tests.stream_table import STREAMS as STREAM_TABLE

READ_TIMEOUT_SECONDS = 10 * 60

# Small, but every stream still reads several pages of PAGE_SIZE.
SIZES = {"chats": 10, "messages": 80, "notifications": 15, "notes": 12, "reactions": 25, "tickets": 30, "contacts": 45}
PAGE_SIZE = 10


@pytest.fixture(scope="module")
def pyairbyte_python(request: pytest.FixtureRequest) -> Path:
    return pyairbyte_python_or_not_run(request.config, "test_pyairbyte", "Reading source-periskope with PyAirbyte",
                                       "Make sure a package index is reachable (the venv is built once).")


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
    env = {k: v for k, v in pyairbyte_venv.clean_env().items() if not k.startswith("AIRBYTE_")}
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
    say(request.config, f"[test_pyairbyte] PyAirbyte read {result['processed_records']} records in {elapsed:.1f}s "
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
        assert got["primary_key"] == list(STREAM_TABLE[stream].primary_key), stream
        assert got["distinct_keys"] == got["rows"], f"{stream}: duplicate primary keys in the cache"
        expected = {tuple(str(record[field]) for field in STREAM_TABLE[stream].primary_key) for record in fake.records(stream)}
        assert {tuple(key) for key in got["keys"]} == expected, stream
