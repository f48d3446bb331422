"""`make postgres`: the demo's data synced with PyAirbyte into a real PostgreSQL, twice (the second time
incrementally, after a few changes), then queried as a user would.

Steps: a throwaway PostgreSQL server on 127.0.0.1 (integration_tests/support/postgres_server.py: Debian's
`postgresql` package, installed with apt-get when missing and this runs as root), the PyAirbyte venv
(.venv-pyairbyte/, built once), the fake Periskope server (as `make demo` starts it), one PyAirbyte read of every
stream into a PostgresCache (tools/pyairbyte_read.py --postgres: incremental, rows merged on the primary key, the
state kept in the database), a few changes on the fake server (new messages, a new ticket, a ticket closed, a contact
renamed), a second read that picks up only those, then row counts and a few SQL queries with their results, and the
psql command line. The server is stopped and deleted at the end unless --keep is given.

    python -m tools.postgres_demo [--keep] [--messages N]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

from integration_tests.support import pyairbyte_venv
from integration_tests.support.paths import PROJECT_ROOT
from integration_tests.support.postgres_server import (
    INSTALL_HINT,
    PostgresInfo,
    PostgresStartError,
    PostgresUnavailable,
    ensure_postgres_installed,
    find_postgres_bin_dir,
    running_postgres,
    stop_command,
)
from integration_tests.support.servers import fake_server_process
from source_periskope.stream_facts import stream_names
from tools.common import FAKE_PHONES, demo_config

OUTPUT = PROJECT_ROOT / "output" / "postgres"
INSTALL_LOG = OUTPUT / "install.log"
SCHEMA = "periskope"
STREAMS = stream_names()

QUERIES = [
    ("Tickets per status",
     f"select status, count(*) as tickets from {SCHEMA}.tickets group by status order by tickets desc;"),
    ("Messages per day per number, the last 7 days of history",
     f'select org_phone, date_trunc(\'day\', "timestamp")::date as day, count(*) as messages\n'
     f'  from {SCHEMA}.messages\n'
     f' where "timestamp" > (select max("timestamp") from {SCHEMA}.messages) - interval \'7 days\'\n'
     f' group by org_phone, day order by day desc, org_phone;'),
    ("The five busiest chats",
     f"select c.chat_name, m.org_phone, count(*) as messages\n"
     f"  from {SCHEMA}.messages m join {SCHEMA}.chats c using (chat_id, org_phone)\n"
     f" group by c.chat_name, m.org_phone order by messages desc limit 5;"),
    ("What changed since the first sync (the second read merged these rows)",
     f"select ticket_id, status, subject, last_updated_at from {SCHEMA}.tickets\n"
     f" order by last_updated_at desc limit 3;"),
]


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def psql_command(info: PostgresInfo, with_password: bool = True) -> str:
    psql = info.bin_dir / "psql"
    password = shlex.quote(info.password) if with_password else "<password>"
    return (f"PGPASSWORD={password} {shlex.quote(str(psql))} -h {info.host} -p {info.port} "
            f"-U {info.user} -d {info.database}")


def psql(info: PostgresInfo, sql: str, *options: str) -> str:
    """psql's own output for `sql` (aligned tables, as a user sees them)."""
    run = subprocess.run(
        [str(info.bin_dir / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-P", "pager=off", *options, "-h", info.host,
         "-p", str(info.port), "-U", info.user, "-d", info.database, "-c", sql],
        env={**os.environ, **info.env(), "PGCLIENTENCODING": "UTF8"}, capture_output=True, encoding="utf-8",
        errors="replace", stdin=subprocess.DEVNULL, timeout=120,
    )
    if run.returncode != 0:
        raise RuntimeError(f"psql failed on {sql!r}: {run.stderr.strip()}")
    return run.stdout.rstrip("\n")


class Admin:
    """The fake server's /_admin API: how the demo changes the organisation between syncs."""

    def __init__(self, base_url: str) -> None:
        self.root = base_url.rsplit("/v1", 1)[0] + "/_admin"

    def call(self, method: str, path: str, payload: Optional[Dict[str, Any]] = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"{self.root}/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


def make_changes(admin: Admin) -> List[str]:
    """What happens in a real organisation between two syncs, on a small scale."""
    done = []
    for number, count in ((FAKE_PHONES[0], 3), (FAKE_PHONES[1], 2)):
        for _ in range(count):
            admin.call("POST", "records/messages", {"phone": number})
        done.append(f"{count} new messages on {number}")
    ticket = admin.call("POST", "records/tickets", {"subject": "Parcel arrived damaged"})
    done.append(f"new ticket {ticket['ticket_id']} ({ticket['subject']!r})")
    open_ticket = next(t for t in reversed(admin.call("GET", "records/tickets")) if t["status"] == "open")
    admin.call("PATCH", f"records/tickets/{open_ticket['ticket_id']}", {"status": "closed"})
    done.append(f"ticket {open_ticket['ticket_id']} closed (it was opened {open_ticket['created_at'][:10]})")
    contact = admin.call("GET", "records/contacts")[-1]
    admin.call("PATCH", f"records/contacts/{contact['contact_id']}", {"contact_name": "Priya Sharma (VIP)"})
    done.append(f"contact {contact['contact_id']} renamed to 'Priya Sharma (VIP)'")
    return done


def read(venv_python: Path, workdir: Path, number: int) -> Dict[str, Any]:
    """One PyAirbyte read of every stream into Postgres (tools/pyairbyte_read.py --postgres)."""
    run_dir = workdir / f"read-{number}"
    run_dir.mkdir(parents=True, exist_ok=True)
    output = run_dir / "result.json"
    env = {k: v for k, v in pyairbyte_venv.clean_env().items() if not k.startswith("AIRBYTE_")}
    started = time.monotonic()
    run = subprocess.run(
        [str(venv_python), str(pyairbyte_venv.READ_SCRIPT), "--executable",
         str(Path(sys.executable).parent / "source-periskope"), "--config", str(workdir / "config.json"),
         "--postgres", str(workdir / "postgres.json"), "--workdir", str(run_dir), "--output", str(output)],
        cwd=run_dir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    if run.returncode != 0 or not output.exists():
        raise RuntimeError(f"PyAirbyte read {number} failed (exit {run.returncode}):\n{run.stderr[-4000:]}")
    result = json.loads(output.read_text())
    result["seconds"] = time.monotonic() - started
    return result


def print_read(result: Dict[str, Any]) -> None:
    counts = "  ".join(f"{stream} {figures['records']}" for stream, figures in result["streams"].items())
    print(f"  {result['processed_records']} records in {result['seconds']:.1f} s: {counts}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.postgres_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave PostgreSQL running at the end, for psql")
    parser.add_argument("--messages", type=int, default=2000, help="messages per phone on the fake server")
    options = parser.parse_args()

    step("PostgreSQL")
    started = time.monotonic()
    if find_postgres_bin_dir() is None and os.geteuid() == 0:
        print(f"  not installed: installing Debian's `postgresql` package (log: {INSTALL_LOG})", flush=True)
    try:
        bin_dir = ensure_postgres_installed(INSTALL_LOG)
    except PostgresUnavailable as failure:
        print(f"PostgreSQL is needed, and it is not installed here:\n  {failure}\n\nInstall it with:\n    "
              f"{INSTALL_HINT}\nthen run `make postgres` again.", file=sys.stderr)
        return 1
    print(f"  PostgreSQL {bin_dir.parent.name} binaries in {bin_dir} ({time.monotonic() - started:.1f} s)", flush=True)

    try:
        venv_python = pyairbyte_venv.ensure(lambda line: print(f"  PyAirbyte: {line}", flush=True))
    except pyairbyte_venv.VenvUnavailable as failure:
        print(f"Could not install PyAirbyte into {pyairbyte_venv.VENV.name}/: {failure}", file=sys.stderr)
        return 1

    OUTPUT.mkdir(parents=True, exist_ok=True)
    workdir = OUTPUT / "pyairbyte"
    shutil.rmtree(workdir, ignore_errors=True)  # the previous run's files (its server is gone or kept apart)
    workdir.mkdir(parents=True)
    try:
        with running_postgres(OUTPUT, bin_dir=bin_dir, keep=options.keep) as pg:
            print(f"  a throwaway server on {pg.host}:{pg.port}, database {pg.database}, user {pg.user} "
                  f"(its data: {pg.data_dir})")
            connection = workdir / "postgres.json"  # the password stays off command lines
            connection.touch(mode=0o600)
            connection.write_text(json.dumps({"host": pg.host, "port": pg.port, "database": pg.database,
                                              "username": pg.user, "password": pg.password, "schema": SCHEMA}))
            status = demo(pg, venv_python, workdir, options.messages)
            print_epilogue(pg, options.keep)
            return status
    except PostgresStartError as failure:
        print(f"PostgreSQL is installed but could not be started: {failure}\n\nIf the binaries are broken, "
              f"reinstall them with:\n    {INSTALL_HINT}", file=sys.stderr)
        return 1
    except RuntimeError as failure:  # a read or a query failed; the server has been stopped
        print(f"\n{failure}", file=sys.stderr)
        return 1


def demo(pg: PostgresInfo, venv_python: Path, workdir: Path, messages: int) -> int:
    with fake_server_process("--messages", str(messages)) as base_url:
        print(f"\nFake Periskope server at {base_url}")
        (workdir / "config.json").write_text(json.dumps(demo_config(base_url), indent=2))

        step(f"read 1: every stream, all history, into database {pg.database}, schema {SCHEMA} (PyAirbyte, PostgresCache)")
        print_read(read(venv_python, workdir, 1))

        step("changes on the fake server")
        for line in make_changes(Admin(base_url)):
            print(f"  {line}")

        step(f"read 2: incremental, from the state PyAirbyte keeps in {SCHEMA}._airbyte_state; rows merged on the primary key")
        print_read(read(venv_python, workdir, 2))

    step("rows per table")
    counts = " union all ".join(f"select '{stream}' as \"table\", count(*) as rows from {SCHEMA}.{stream}"
                                for stream in STREAMS)
    print(psql(pg, counts + ";"))
    for title, sql in QUERIES:
        step(title)
        print("  " + sql.replace("\n", "\n  "))
        print(psql(pg, sql))
    step("column types of messages (timestamps are `timestamp without time zone` holding UTC, JSON is `json`)")
    print(psql(pg, "select column_name, data_type from information_schema.columns where table_schema = "
                   f"'{SCHEMA}' and table_name = 'messages' and column_name in ('message_id', 'org_phone', "
                   "'timestamp', 'body', 'is_deleted', 'media', '_airbyte_extracted_at') order by ordinal_position;"))
    return 0


def print_epilogue(pg: PostgresInfo, keep: bool) -> None:
    step("look further")
    print("  This PostgreSQL server is throwaway: made for this demo, on loopback only, with a random password")
    print("  (shown here because the server holds nothing else).")
    if keep:
        print("  It is still running (--keep). Connect with:")
        print(f"    {psql_command(pg)}")
        print(f"  and try: \\dt {SCHEMA}.*   or   select * from {SCHEMA}.tickets limit 5;")
        print("  Stop it and delete its data with:")
        print(f"    {stop_command(pg)}")
    else:
        print("  It is stopped and deleted now. To keep it running and explore it with psql:")
        print("    make postgres POSTGRES_ARGS=--keep")
        print(f"  then connect with the command it prints, like: {psql_command(pg, with_password=False)}")


if __name__ == "__main__":
    sys.exit(main())
