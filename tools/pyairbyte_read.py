"""Reads every stream of a locally installed source-periskope with PyAirbyte, offline: into its default DuckDB cache
(a full read, appended), or with --postgres into a Postgres cache (an incremental read, merged).

Runs inside the PyAirbyte venv (.venv-pyairbyte/, see integration_tests/support/pyairbyte_venv.py), not the
connector's, by integration_tests/test_pyairbyte.py and `make duckdb` (tools/duckdb_demo.py) for DuckDB, and by
integration_tests/test_postgres_destination.py and `make postgres` (tools/postgres_demo.py) for Postgres: it is run
by path and imports nothing from this project, only the standard library and `airbyte`.

    .venv-pyairbyte/bin/python tools/pyairbyte_read.py --executable .venv/bin/source-periskope --config config.json \
        --workdir DIR --output result.json [--postgres postgres.json]

Offline, by three means:
  * AIRBYTE_OFFLINE_MODE=1 (set here before `airbyte` is imported, since PyAirbyte reads it at import): the
    connector registry is never fetched (`get_connector_metadata` returns None) and telemetry is off;
  * DO_NOT_TRACK=1: telemetry off a second way;
  * `get_source(..., local_executable=<path>, install_if_missing=False)`: PyAirbyte runs that executable and
    installs nothing (no pip, uv or docker).
As a check, this process refuses and records every DNS lookup or connection to a non-loopback address (the
connector is a separate process and talks only to the fake server's 127.0.0.1 base_url from the config).

The default cache is `airbyte.get_default_cache()`, a DuckDBCache at
$AIRBYTE_CACHE_ROOT/default_cache/default_cache.duckdb; AIRBYTE_CACHE_ROOT (and the project, temp and log
folders) are pointed into --workdir. Streams are read with force_full_refresh=True and write_strategy="append":
every record the connector emits becomes one row, so duplicates show up in the row count instead of being
merged away on the primary key (the "auto" default would MERGE, since every stream has a primary key).

Writes to --output (and prints on stdout's last line) JSON: versions, cache path, blocked connections, and per
stream its rows, primary key, distinct key count and the distinct keys (each a list of strings).

With --postgres FILE (a JSON object: host, port, database, username, password, and optionally schema, default
"periskope"; the password stays out of the command line and out of the output), the cache is a PostgresCache and
the read is what a user's scheduled sync would be: incremental, the default write strategy ("auto": every stream
has a primary key, so rows are merged on it; PyAirbyte's Postgres processor emulates MERGE with an UPDATE of the
rows whose key is in the table and an INSERT of the others), and the state kept in the cache (table
`_airbyte_state` in the schema), so the next run of this script, in any process, continues from it. The JSON output then holds versions,
the cache (host, port, database, schema), write_strategy "auto", read_seconds, processed_records, blocked
connections, and per stream the records processed by this read (`records`) and the rows its table holds
afterwards (`rows`). The JSONL batch files PyAirbyte writes before loading go into --workdir/cache.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
import sys
import time
from importlib import metadata
from pathlib import Path

BLOCKED = []  # every attempt to reach something other than loopback: {"call": ..., "target": ...}
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_loopback(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").split("%")[0]
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guard_network() -> None:
    """Refuse (and record) DNS lookups and connections to anything but loopback, in this process."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            BLOCKED.append({"call": "getaddrinfo", "target": str(host)})
            raise socket.gaierror(socket.EAI_NONAME, f"offline test: lookup of {host!r} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    def _check(sock, address, call):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            BLOCKED.append({"call": call, "target": f"{address[0]}:{address[1]}"})
            raise ConnectionRefusedError(f"offline test: connection to {address!r} refused")

    def connect(self, address):
        _check(self, address, "connect")
        return real_connect(self, address)

    def connect_ex(self, address):
        _check(self, address, "connect_ex")
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex


def _version(package: str):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executable", required=True, help="path of the source-periskope console script")
    parser.add_argument("--config", required=True, help="connector config JSON file")
    parser.add_argument("--workdir", required=True, help="an empty folder for the cache, logs and temp files")
    parser.add_argument("--output", required=True, help="where to write the result JSON")
    parser.add_argument("--postgres", help="a JSON file with the Postgres connection: an incremental read into it")
    args = parser.parse_args()

    workdir = Path(args.workdir).absolute()
    # PyAirbyte reads all of these when `airbyte` is imported.
    os.environ.update({
        "AIRBYTE_OFFLINE_MODE": "1",
        "DO_NOT_TRACK": "1",
        "AIRBYTE_PROJECT_DIR": str(workdir),
        "AIRBYTE_CACHE_ROOT": str(workdir / "cache"),
        "AIRBYTE_LOGGING_ROOT": str(workdir / "logs"),
        "AIRBYTE_TEMP_DIR": str(workdir / "tmp"),
    })
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)
    _guard_network()

    import airbyte as ab  # noqa: PLC0415 - only after the environment above is set

    config = json.loads(Path(args.config).read_text())
    started = time.monotonic()
    source = ab.get_source(
        "source-periskope",
        config=config,
        local_executable=Path(args.executable),
        install_if_missing=False,
    )
    source.select_all_streams()
    if args.postgres:
        return _read_into_postgres(source, json.loads(Path(args.postgres).read_text()), workdir, args.output, started)
    cache = ab.get_default_cache()
    result = source.read(cache=cache, write_strategy="append", force_full_refresh=True)
    read_seconds = time.monotonic() - started

    primary_keys = {
        configured.stream.name: [part for path in configured.primary_key or [] for part in path]
        for configured in source.get_configured_catalog().streams
    }
    streams = {}
    for name in result:
        dataset = result[name]
        key_fields = primary_keys.get(name, [])
        keys = {tuple(str(row[field]) for field in key_fields) for row in dataset} if key_fields else set()
        streams[name] = {
            "rows": len(dataset),
            "primary_key": key_fields,
            "distinct_keys": len(keys),
            "keys": sorted(list(key) for key in keys),
        }

    output = {
        "versions": {package: _version(package) for package in ("airbyte", "airbyte-cdk", "duckdb", "sqlalchemy")},
        "python": sys.version.split()[0],
        "offline_mode": os.environ["AIRBYTE_OFFLINE_MODE"],
        "cache": {"type": type(cache).__name__, "db_path": str(cache.db_path), "schema": cache.schema_name},
        "write_strategy": "append",
        "read_seconds": round(read_seconds, 2),
        "processed_records": result.processed_records,
        "blocked_connections": BLOCKED,
        "streams": streams,
    }
    Path(args.output).write_text(json.dumps(output))
    print(json.dumps({key: value for key, value in output.items() if key != "streams"}))
    return 0


def _read_into_postgres(source, connection: dict, workdir: Path, output_path: str, started: float) -> int:
    """One incremental read of the selected streams into a PostgresCache, default write strategy, state in the cache."""
    from airbyte.caches import PostgresCache  # noqa: PLC0415

    schema = connection.get("schema", "periskope")
    cache = PostgresCache(
        host=connection["host"],
        port=int(connection["port"]),
        database=connection["database"],
        username=connection.get("username") or connection["user"],
        password=connection["password"],
        schema_name=schema,
        cache_dir=workdir / "cache",
    )
    result = source.read(cache=cache)  # incremental where the stream supports it; write_strategy "auto"
    read_seconds = time.monotonic() - started
    # ReadResult has only the total; the progress tracker (not public API) holds the count per stream.
    per_stream = dict(getattr(getattr(result, "_progress_tracker", None), "stream_read_counts", None) or {})
    streams = {}
    for name in source.get_selected_streams():
        # PyAirbyte's table name for the stream (lower case here; a prefix if the cache has one).
        table = cache.processor.get_sql_table_name(name)
        streams[name] = {"records": per_stream.get(name, 0), "table": table,
                         "rows": cache.processor.fetch_row_count(table)}
    output = {
        "versions": {package: _version(package) for package in ("airbyte", "airbyte-cdk", "sqlalchemy", "psycopg2-binary")},
        "python": sys.version.split()[0],
        "offline_mode": os.environ["AIRBYTE_OFFLINE_MODE"],
        "cache": {"type": type(cache).__name__, "host": cache.host, "port": cache.port, "database": cache.database,
                  "schema": cache.schema_name},
        "write_strategy": "auto",
        "read_seconds": round(read_seconds, 2),
        "processed_records": result.processed_records,
        "blocked_connections": BLOCKED,
        "streams": streams,
    }
    Path(output_path).write_text(json.dumps(output))
    print(json.dumps(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
