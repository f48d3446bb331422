"""A real database as the destination: PyAirbyte syncs source-periskope into PostgreSQL three times, incrementally,
while the organisation changes, and the tables end up holding exactly the fake server's records, each in its
latest version.

The pieces:
  * PostgreSQL: a throwaway server on 127.0.0.1 (integration_tests/support/postgres_server.py), from Debian's
    `postgresql` package, installed with apt-get when missing (CI runs as root);
  * PyAirbyte: the venv .venv-pyairbyte/ (integration_tests/support/pyairbyte_venv.py, reused when current) running
    tools/pyairbyte_read.py --postgres: one read of every stream into a PostgresCache, incremental, the default
    write strategy (MERGE on the primary key, emulated by PyAirbyte with UPDATE + INSERT on Postgres), and the state
    kept in the cache's `_airbyte_state` table between the three processes;
  * the fake server: a realistic organisation (tickets and contacts several pages of PAGE_SIZE, two connected
    numbers, its history ending a day before the first sync), the connector config with lookback_days 1.

Between the syncs the organisation changes as Periskope's does: inserts in every stream that takes them (phones are
fixed: one is renamed instead), an old ticket and an old contact updated, a chat given a new message (the message
added, the chat's updated_at and latest_message moved), a message edited within lookback_days (body and updated_at
change, timestamp does not), late messages newer than the newest one synced for their number, late notes; then,
before the third sync, inserts again, messages delivered late behind the newest one synced and a note edited (only
the lookback finds those), the same ticket changed again, a phone renamed. No deletions here.

After every sync the tables (read with psql) are compared with the server's own records (never with what the
connector emitted): per stream the set of primary keys (unit_tests/stream_table.py) equals the server's, no key
appears twice, and every row holds the server's current version: the cursor and updated_at as instants, and a few
plain fields the connector passes through (text with lone surrogates compared after replacing them with U+FFFD, as
the connector writes them; labels and JSON-encoded fields are transformed, so they are left out). Each staged change
is also checked on its own row, and reads 2 and 3 must read far less than read 1 (the state in the cache was used).
PyAirbyte's emulated MERGE inserts every row of a read whose key is not in the table yet, so a record emitted twice
in one read shows up as a duplicate key, and an UPDATE from two versions of a row takes either: both are caught here.

If PostgreSQL cannot be installed or started, or the PyAirbyte venv cannot be built, the test is skipped with a loud
message saying why and what to run, except with CI=true, where it fails. Alone:

    .venv/bin/python -m pytest integration_tests/test_postgres_destination.py -q -p no:cacheprovider -s
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.support.not_run import not_run, say
from integration_tests.support.not_run import pyairbyte_python as pyairbyte_python_or_not_run
from integration_tests.support.postgres_server import (
    DEFAULT_INSTALL_LOG,
    INSTALL_HINT,
    PostgresError,
    PostgresInfo,
    PostgresUnavailable,
    ensure_postgres_installed,
    find_postgres_bin_dir,
    running_postgres,
)
from integration_tests.support import pyairbyte_venv
from integration_tests.support.pyairbyte_venv import READ_SCRIPT
from integration_tests.support.servers import connector_config
from unit_tests.stream_table import NAMES as STREAMS
from unit_tests.stream_table import STREAMS as STREAM_TABLE

pytestmark = pytest.mark.slow

SEED = 23
# Per number for chats, messages, notifications, notes and reactions; per organisation for tickets and contacts
# (four pages each at PAGE_SIZE).
SIZES = {"tickets": 1700, "contacts": 1900, "chats": 50, "messages": 900, "notifications": 150, "notes": 120,
         "reactions": 250}
PAGE_SIZE = 500
LOOKBACK_DAYS = 1
HISTORY_AGE_SECONDS = 86_400  # the organisation's history ends a day before the first sync
SCHEMA = "periskope"
READ_TIMEOUT_SECONDS = 10 * 60
TAG = "test_postgres_destination"
RUN_ALONE = ".venv/bin/python -m pytest integration_tests/test_postgres_destination.py -q -s"

# Fields compared with the server's, beside the cursor: passed through by the connector untransformed.
# "updated_at" is compared as an instant (where the stream has it), the others as they are.
PLAIN_FIELDS = {
    "tickets": ("status", "subject", "is_deleted"),
    "messages": ("updated_at", "body", "is_deleted", "message_type", "prev_body"),
    "chats": ("chat_name", "chat_type"),
    "contacts": ("contact_name", "contact_type"),
    "notifications": ("type", "body"),
    "notes": ("updated_at", "body", "is_deleted"),
    "reactions": ("reaction",),
    "phones": ("phone_name", "wa_state"),
}
TIME_FIELDS = {"updated_at"}  # besides each stream's cursor
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# -- unavailable ------------------------------------------------------------------------------------------------

def _unavailable(config: pytest.Config, reason: str, command: str) -> None:
    not_run(config, TAG, f"POSTGRES DESTINATION TEST NOT RUN: {reason}\nSyncing source-periskope into PostgreSQL with "
                         f"PyAirbyte is untested here. To run it: {command}, then {RUN_ALONE}")


# -- fixtures ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pyairbyte_python(request: pytest.FixtureRequest) -> Path:
    return pyairbyte_python_or_not_run(request.config, TAG, "Syncing source-periskope into PostgreSQL with PyAirbyte",
                                       f"Make sure a package index is reachable, then {RUN_ALONE}")


@pytest.fixture(scope="module")
def postgres(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[PostgresInfo]:
    started = time.monotonic()
    found = find_postgres_bin_dir()
    if found is None and os.geteuid() == 0:
        say(request.config, f"\n[test_postgres_destination] PostgreSQL is not installed: installing Debian's "
                             f"`postgresql` package (log: {DEFAULT_INSTALL_LOG})")
    with contextlib.ExitStack() as stack:
        try:
            installed = found or ensure_postgres_installed()
            installed_seconds = time.monotonic() - started
            info = stack.enter_context(running_postgres(tmp_path_factory.mktemp("postgres"), bin_dir=installed))
        except PostgresUnavailable as failure:
            _unavailable(request.config, f"PostgreSQL is not installed and could not be installed: {failure}",
                         INSTALL_HINT)
        except PostgresError as failure:
            _unavailable(request.config, f"PostgreSQL could not be started: {failure}",
                         f"`make postgres` to see it start (and, if its binaries are broken, {INSTALL_HINT})")
        how = "found" if found else f"installed in {installed_seconds:.1f}s"
        say(request.config, f"\n[test_postgres_destination] PostgreSQL {installed.parent.name} ({how}) running in "
                             f"{time.monotonic() - started:.1f}s on {info.host}:{info.port}")
        yield info


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePeriskope]:
    with FakePeriskope(seed=SEED, sizes=SIZES, connected_phones=2, history_age_seconds=HISTORY_AGE_SECONDS).start() as server:
        yield server


# -- reading the tables -----------------------------------------------------------------------------------------

class Tables:
    """The Postgres side, read with psql (the connector's venv has no database driver; psql is what a user has)."""

    def __init__(self, info: PostgresInfo) -> None:
        self.info = info

    def query(self, sql: str) -> Any:
        """The single JSON value `sql` selects."""
        psql = self.info.bin_dir / "psql"
        run = subprocess.run(
            [str(psql), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.info.host, "-p",
             str(self.info.port), "-U", self.info.user, "-d", self.info.database, "-c", sql],
            env={**os.environ, **self.info.env(), "PGCLIENTENCODING": "UTF8"}, capture_output=True,
            encoding="utf-8", timeout=120, stdin=subprocess.DEVNULL,
        )
        assert run.returncode == 0, f"psql failed ({run.returncode}) on {sql!r}: {run.stderr}"
        return json.loads(run.stdout)

    def columns(self, table: str) -> Dict[str, str]:
        return {row["column_name"]: row["data_type"] for row in self.query(
            "select coalesce(json_agg(c), '[]') from (select column_name, data_type from information_schema.columns "
            f"where table_schema = '{SCHEMA}' and table_name = '{table}') c")}

    def rows(self, stream: str) -> List[Dict[str, Any]]:
        table = STREAM_TABLE[stream]
        wanted = list(dict.fromkeys([*table.primary_key, table.cursor, *PLAIN_FIELDS[stream]]))
        present = self.columns(stream)
        missing = [name for name in wanted if name not in present]
        assert not missing, f"{SCHEMA}.{stream} has no column {missing}; its columns: {sorted(present)}"
        select = ", ".join(f'"{name}"' for name in wanted)
        return self.query(f"select coalesce(json_agg(t), '[]') from (select {select} from {SCHEMA}.\"{stream}\") t")


# -- comparing --------------------------------------------------------------------------------------------------

def _instant(value: Any) -> Optional[datetime]:
    """A timestamp as an aware datetime: the server's text (0-6 fractional digits, +00:00, +00, Z or a space) or
    what Postgres' json of a timestamptz column gives."""
    if value is None:
        return None
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if re.search(r"[+-]\d\d$", text):
        text += ":00"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _as_written(value: Any) -> Any:
    """The server's value as the connector writes it: lone surrogates become U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def _key(stream: str, record: Dict[str, Any]) -> Tuple[str, ...]:
    return tuple(str(record[name]) for name in STREAM_TABLE[stream].primary_key)


def _differences(stream: str, server: Dict[str, Any], row: Dict[str, Any]) -> List[str]:
    found = []
    for name in (STREAM_TABLE[stream].cursor, *PLAIN_FIELDS[stream]):
        if name == STREAM_TABLE[stream].cursor or name in TIME_FIELDS:
            expected, got = _instant(server.get(name)), _instant(row.get(name))
        else:
            expected, got = _as_written(server.get(name)), row.get(name)
        if expected != got:
            found.append(f"{name}: table {str(got)[:80]!r}, server {str(expected)[:80]!r}")
    return found


@dataclass
class SyncCheck:
    """One sync's PyAirbyte result and how its tables compare with the server right after it."""

    number: int
    result: Dict[str, Any]
    seconds: float
    rows: Dict[str, int] = field(default_factory=dict)
    server_records: Dict[str, int] = field(default_factory=dict)
    duplicates: Dict[str, List[Tuple[str, ...]]] = field(default_factory=dict)
    missing: Dict[str, List[Tuple[str, ...]]] = field(default_factory=dict)
    extra: Dict[str, List[Tuple[str, ...]]] = field(default_factory=dict)
    stale: Dict[str, List[str]] = field(default_factory=dict)
    compared_rows: int = 0

    def problems(self) -> List[str]:
        lines = []
        for kind in ("duplicates", "missing", "extra", "stale"):
            for stream, items in getattr(self, kind).items():
                if items:
                    lines.append(f"sync {self.number} {stream}: {len(items)} {kind}, e.g. {items[:3]}")
        return lines


def compare(number: int, result: Dict[str, Any], seconds: float, tables: Tables, server: FakePeriskope
            ) -> Tuple[SyncCheck, Dict[str, Dict[Tuple[str, ...], Dict[str, Any]]]]:
    check = SyncCheck(number, result, seconds)
    held: Dict[str, Dict[Tuple[str, ...], Dict[str, Any]]] = {}
    for stream in STREAMS:
        rows = tables.rows(stream)
        by_key: Dict[Tuple[str, ...], Dict[str, Any]] = {}
        duplicates = []
        for row in rows:
            key = _key(stream, row)
            if key in by_key:
                duplicates.append(key)
            by_key[key] = row
        expected = {_key(stream, record): record for record in server.records(stream)}
        check.rows[stream], check.server_records[stream] = len(rows), len(expected)
        check.duplicates[stream] = duplicates
        check.missing[stream] = sorted(set(expected) - set(by_key))
        check.extra[stream] = sorted(set(by_key) - set(expected))
        stale = []
        for key, record in expected.items():
            if key in by_key:
                check.compared_rows += 1
                differences = _differences(stream, record, by_key[key])
                if differences:
                    stale.append(f"{key}: {'; '.join(differences)}")
        check.stale[stream] = stale
        held[stream] = by_key
    return check, held


# -- the scenario -----------------------------------------------------------------------------------------------

@dataclass
class Expectation:
    """A staged change and what its row must hold in the end (None: only that the row exists)."""

    what: str
    stream: str
    key: Tuple[str, ...]
    fields: Optional[Dict[str, Any]] = None


@dataclass
class Scenario:
    syncs: List[SyncCheck]
    expectations: List[Expectation]
    final_rows: Dict[str, Dict[Tuple[str, ...], Dict[str, Any]]]
    latest_messages: Dict[Tuple[str, ...], Any]  # chat key -> latest_message->>'message_id' in the table
    chat_messages: Dict[Tuple[str, ...], str]  # chat key -> the message the test gave it
    column_types: Dict[str, Dict[str, str]]
    state_rows: List[Dict[str, Any]]
    changes: Dict[int, List[str]]
    seconds: float


class Stager:
    """The changes made on the server between syncs, and what each must leave in the tables."""

    def __init__(self, server: FakePeriskope) -> None:
        self.server = server
        self.numbers = [phone["number"] for phone in server.phones if phone["wa_state"] == "CONNECTED"]
        self.expectations: List[Expectation] = []
        self.log: List[str] = []
        self.chat_messages: Dict[Tuple[str, ...], str] = {}  # chat key -> the message_id of its latest_message

    def expect(self, what: str, stream: str, record: Dict[str, Any], *fields: str) -> None:
        key = _key(stream, record)
        for earlier in self.expectations:  # changed again: the row must exist, in this newer version
            if (earlier.stream, earlier.key) == (stream, key) and earlier.fields is not None:
                earlier.fields, earlier.what = None, f"{earlier.what} (changed again later)"
        self.expectations.append(Expectation(what, stream, key, {name: record.get(name) for name in fields} or None))
        self.log.append(f"{what}: {stream} {_key(stream, record)}")

    def insert_everywhere(self, tag: str) -> None:
        first, second = self.numbers[0], self.numbers[1]
        for stream, phone, overrides in (
            ("tickets", None, {"subject": f"New ticket ({tag})"}),
            ("contacts", None, {"contact_name": f"New contact ({tag})"}),
            ("chats", second, {}),
            ("messages", first, {}),
            ("messages", second, {}),
            ("notifications", second, {}),
            ("notes", first, {}),
            ("reactions", second, {}),
        ):
            record = self.server.add_record(stream, phone, **overrides)
            self.expect(f"insert ({tag})", stream, record, STREAM_TABLE[stream].cursor)

    def update_old_ticket(self, ticket_id: Optional[str] = None) -> str:
        tickets = self.server.records("tickets")  # newest created first: an old one is near the end
        old = next(t for t in tickets if t["ticket_id"] == ticket_id) if ticket_id else tickets[-7]
        status = "open" if old["status"] in ("closed", "archived") else "closed"
        new = self.server.update_record("tickets", old["ticket_id"], status=status,
                                        subject=f"{old['subject']} (now {status})")
        self.expect("old ticket updated", "tickets", new, "last_updated_at", "status", "subject")
        return new["ticket_id"]

    def update_old_contact(self) -> None:
        old = self.server.records("contacts")[-11]  # newest updated first: an old one
        new = self.server.update_record("contacts", old["contact_id"], contact_name="Renamed ✓ (was "
                                        f"{_as_written(old['contact_name'])})")
        self.expect("old contact updated", "contacts", new, "updated_at", "contact_name")

    def chat_gets_a_message(self) -> None:
        """As Periskope does: the message is added, and its chat's updated_at and latest_message move."""
        phone = self.numbers[0]
        chats = [c for c in self.server.records("chats", phone) if c["chat_type"] == "user"]
        chat = chats[len(chats) // 2]  # neither the newest nor the oldest
        message = self.server.add_record("messages", phone, chat_id=chat["chat_id"], body="Is my order on its way?")
        new_chat = self.server.update_record("chats", chat["chat_id"], phone, latest_message=message)
        self.expect("chat's new message", "messages", message, "timestamp", "body")
        self.expect("chat moved by its new message", "chats", new_chat, "updated_at")
        self.chat_messages[_key("chats", new_chat)] = message["message_id"]

    def edit_within_lookback(self, stream: str, phone: str, newest_synced: datetime) -> None:
        """Edit the body of a record already synced, more than an hour older than the newest one synced for its
        number but within lookback_days of it (updated_at changes, timestamp does not): only the lookback re-reads
        it."""
        margin = 3600  # an hour inside the lookback, whatever the clock did meanwhile
        for record in self.server.records(stream, phone):  # newest first
            age = (newest_synced - _instant(record["timestamp"])).total_seconds()
            if margin <= age < LOOKBACK_DAYS * 86_400 - margin and record.get("body") and not record.get("is_deleted"):
                break
        else:
            raise AssertionError(f"no {stream} of {phone} within {LOOKBACK_DAYS} day(s) of the newest synced")
        new = self.server.update_record(stream, record[STREAM_TABLE[stream].id_field], phone,
                                        body=f"{_as_written(record['body'])} (edited)")
        assert new["timestamp"] == record["timestamp"] and new["updated_at"] != record.get("updated_at")
        self.expect(f"{stream[:-1]} edited within lookback_days", stream, new, "timestamp", "updated_at", "body",
                    "prev_body")

    def deliver_late(self, stream: str, phone: str, count: int, newest_age_seconds: float,
                     spacing_seconds: float = 30) -> None:
        for record in self.server.deliver_late(stream, phone, count, newest_age_seconds=newest_age_seconds,
                                               spacing_seconds=spacing_seconds):
            self.expect(f"late {stream[:-1]} ({newest_age_seconds / 3600:.1f} h old)", stream, record, "timestamp")

    def rename_phone(self) -> None:
        phone = self.server.records("phones")[0]
        new = self.server.update_record("phones", phone["phone_id"], phone_name=f"{phone['phone_name']} (renamed)")
        self.expect("phone renamed", "phones", new, "updated_at", "phone_name")


def _newest(held: Dict[str, Dict[Tuple[str, ...], Dict[str, Any]]], stream: str, number: str) -> datetime:
    """The newest cursor the table holds for one number: the newest record synced for it."""
    return max(_instant(row["timestamp"]) for row in held[stream].values() if row["org_phone"] == f"{number}@c.us")


def _read(python: Path, workdir: Path, number: int) -> Tuple[Dict[str, Any], float]:
    run_dir = workdir / f"read-{number}"
    run_dir.mkdir()
    output = run_dir / "result.json"
    env = {k: v for k, v in pyairbyte_venv.clean_env().items() if not k.startswith("AIRBYTE_")}
    started = time.monotonic()
    run = subprocess.run(
        [str(python), str(READ_SCRIPT), "--executable", str(Path(sys.executable).parent / "source-periskope"),
         "--config", str(workdir / "config.json"), "--postgres", str(workdir / "postgres.json"),
         "--workdir", str(run_dir), "--output", str(output)],
        cwd=run_dir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=READ_TIMEOUT_SECONDS,
    )
    seconds = time.monotonic() - started
    assert run.returncode == 0 and output.exists(), (
        f"read {number}: pyairbyte_read.py --postgres exited {run.returncode}\n--- stdout\n{run.stdout[-4000:]}\n"
        f"--- stderr\n{run.stderr[-6000:]}")
    return json.loads(output.read_text()), seconds


@pytest.fixture(scope="module")
def scenario(request: pytest.FixtureRequest, pyairbyte_python: Path, postgres: PostgresInfo, fake: FakePeriskope,
             tmp_path_factory) -> Scenario:
    connector = Path(sys.executable).parent / "source-periskope"
    assert connector.exists(), f"no connector console script beside {sys.executable}: pip install -e . first"
    started = time.monotonic()
    workdir = tmp_path_factory.mktemp("pyairbyte-postgres")
    (workdir / "config.json").write_text(json.dumps(connector_config(fake, page_size=PAGE_SIZE,
                                                                     lookback_days=LOOKBACK_DAYS)))
    connection = workdir / "postgres.json"
    connection.touch(mode=0o600)
    connection.write_text(json.dumps({"host": postgres.host, "port": postgres.port, "database": postgres.database,
                                      "username": postgres.user, "password": postgres.password, "schema": SCHEMA}))
    tables = Tables(postgres)
    stager = Stager(fake)
    first, second = stager.numbers
    syncs: List[SyncCheck] = []
    changes: Dict[int, List[str]] = {}

    def sync(number: int):
        result, seconds = _read(pyairbyte_python, workdir, number)
        check, held = compare(number, result, seconds, tables, fake)
        syncs.append(check)
        counts = ", ".join(f"{stream} {figures['records']}" for stream, figures in result["streams"].items())
        say(request.config, f"[test_postgres_destination] read {number}: {result['processed_records']} records in "
                             f"{seconds:.1f}s (read itself {result['read_seconds']}s) [{counts}]; tables "
                             f"{sum(check.rows.values())} rows, {check.compared_rows} compared with the server, "
                             f"{len(check.problems())} problem(s)")
        return held

    held = sync(1)

    # Between syncs 1 and 2.
    mark = len(stager.log)
    stager.insert_everywhere("before read 2")
    ticket_id = stager.update_old_ticket()
    stager.update_old_contact()
    stager.chat_gets_a_message()
    stager.edit_within_lookback("messages", second, _newest(held, "messages", second))
    now = datetime.now(timezone.utc)
    newest_message = _newest(held, "messages", first)
    stager.deliver_late("messages", first, 3, (now - newest_message).total_seconds() / 2)
    newest_note = _newest(held, "notes", second)  # two late notes, three hours apart (the older one edited later)
    stager.deliver_late("notes", second, 2, (now - newest_note).total_seconds() / 3, spacing_seconds=3 * 3600)
    changes[2] = stager.log[mark:]

    held = sync(2)

    # Between syncs 2 and 3: fewer changes; the late messages and the edited note are found by the lookback alone.
    mark = len(stager.log)
    stager.insert_everywhere("before read 3")
    stager.update_old_ticket(ticket_id)
    stager.rename_phone()
    newest_message = _newest(held, "messages", first)
    stager.deliver_late("messages", first, 2, (datetime.now(timezone.utc) - newest_message).total_seconds() + 1800)
    stager.edit_within_lookback("notes", second, _newest(held, "notes", second))
    changes[3] = stager.log[mark:]

    held = sync(3)

    latest = tables.query(f"select coalesce(json_agg(t), '[]') from (select chat_id, org_phone, "
                          f"latest_message->>'message_id' as message_id from {SCHEMA}.chats) t")
    state_rows = tables.query(f"select coalesce(json_agg(t), '[]') from (select * from {SCHEMA}._airbyte_state) t")
    return Scenario(
        syncs=syncs,
        expectations=stager.expectations,
        final_rows=held,
        latest_messages={(row["chat_id"], row["org_phone"]): row["message_id"] for row in latest},
        chat_messages=stager.chat_messages,
        column_types={stream: tables.columns(stream) for stream in STREAMS},
        state_rows=state_rows,
        changes=changes,
        seconds=time.monotonic() - started,
    )


# -- the tests --------------------------------------------------------------------------------------------------

def test_three_incremental_pyairbyte_reads_into_postgres(scenario, request):
    first, *later = scenario.syncs
    for check in scenario.syncs:
        result = check.result
        assert result["blocked_connections"] == [], "PyAirbyte tried to reach a non-loopback address"
        assert result["cache"]["type"] == "PostgresCache" and result["cache"]["schema"] == SCHEMA
        assert result["write_strategy"] == "auto"
        assert sorted(result["streams"]) == sorted(STREAMS)
    # Incremental: the later reads start from the state kept in the cache, so they read far less than the first.
    for check in later:
        assert check.result["processed_records"] < first.result["processed_records"] / 2, (
            f"read {check.number} processed {check.result['processed_records']} records, the first "
            f"{first.result['processed_records']}: the state kept in {SCHEMA}._airbyte_state was not used")
    states = {row.get("stream_name") for row in scenario.state_rows}
    assert set(STREAMS) <= states, f"{SCHEMA}._airbyte_state holds state for {sorted(states)}"
    changes = "; ".join(f"before read {n}: {len(lines)} changes" for n, lines in scenario.changes.items())
    say(request.config, f"[test_postgres_destination] {len(scenario.syncs)} syncs, {changes}, "
                         f"{len(scenario.expectations)} staged changes checked, "
                         f"{sum(c.compared_rows for c in scenario.syncs)} row versions compared; "
                         f"final rows: {scenario.syncs[-1].rows}; scenario {scenario.seconds:.1f}s")


def test_cursor_columns_are_timestamps(scenario):
    """The cursors are real timestamps a user can compute with. PyAirbyte 0.71 declares them TIMESTAMP(timezone=True)
    but creates its tables from the type's generic text, "TIMESTAMP", so Postgres makes them `timestamp without time
    zone`; the values are UTC (this cluster's timezone; the instants are compared with the server's above)."""
    types = {stream: scenario.column_types[stream].get(STREAM_TABLE[stream].cursor) for stream in STREAMS}
    assert all(kind in ("timestamp without time zone", "timestamp with time zone") for kind in types.values()), types


def test_after_every_sync_the_tables_hold_exactly_the_server_records(scenario):
    problems = [line for check in scenario.syncs for line in check.problems() if "stale" not in line]
    assert not problems, "\n".join(problems)
    for check in scenario.syncs:
        assert check.rows == check.server_records, f"sync {check.number}: (rows) {check.rows} != (server) {check.server_records}"


def test_after_every_sync_each_row_is_the_server_s_latest_version(scenario):
    problems = [line for check in scenario.syncs for line in check.problems() if "stale" in line]
    assert not problems, "\n".join(problems)
    assert all(check.compared_rows == sum(check.server_records.values()) for check in scenario.syncs)


def test_every_staged_change_reached_its_row(scenario):
    failures = []
    for expectation in scenario.expectations:
        row = scenario.final_rows[expectation.stream].get(expectation.key)
        if row is None:
            failures.append(f"{expectation.what}: no row {expectation.stream} {expectation.key}")
            continue
        for name, expected in (expectation.fields or {}).items():
            if name not in row:
                continue  # not a compared column (e.g. prev_body is compared through PLAIN_FIELDS when present)
            if name == STREAM_TABLE[expectation.stream].cursor or name in TIME_FIELDS:
                same = _instant(row[name]) == _instant(expected)
            else:
                same = row[name] == _as_written(expected)
            if not same:
                failures.append(f"{expectation.what}: {expectation.stream} {expectation.key} {name} is {row[name]!r}, "
                                f"expected {expected!r}")
    assert not failures, "\n".join(failures)
    assert {e.stream for e in scenario.expectations} == set(STREAMS)


def test_the_chat_with_a_new_message_points_at_it(scenario):
    assert scenario.chat_messages
    for key, message_id in scenario.chat_messages.items():
        assert scenario.latest_messages.get(key) == message_id, (
            f"chat {key}: latest_message.message_id is {scenario.latest_messages.get(key)!r}, expected {message_id!r}")
