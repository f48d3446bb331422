"""A seeded, randomised sequence of incremental syncs against the fake server, checked against the server's data.

Each step changes the organisation between syncs (inserts, updates, late arrivals, soft and hard deletes, a phone
that goes offline and later delivers its backlog, broadcasts of many messages in one second, the state edited by hand
as a person types dates), schedules a few changes during the sync (records entering lists, a newest chat getting a
message and leaving its window, a record near the top deleted: lists moving while they are paged; half the seeds
also shuffle the records of each second on every request), runs one incremental
sync of every stream with the real `source-periskope` command (requests fail at random, and now and then the
process is killed and the next sync resumes from the last state it emitted), and keeps what it emitted the way a
destination does (append, then deduplicated on the primary key by cursor, the latest emission winning a tie;
records after the last STATE message of a killed sync are dropped, as the platform drops them). Some seeds run the
server's clock behind real time (clock_behind_seconds, drawn per seed): changes made during a sync are then dated
before the connector's own settle margin.

After every completed sync, the oracle, built from the server's own records (never from the connector's output):
- every record the server held when the sync started (within start_date) has been emitted at least once;
- for every change the connector promises to see (one that moves the record's cursor, or an edit within
  lookback_days), the destination holds that version or a later one.
Changes no cursor can see are left out of the oracle: an edit older than lookback_days (or any edit with no
lookback), a hard delete (the destination keeps the row). Every emitted record is checked against its schema, and
duplicates are counted.

    Simulation(seed=7, workdir=Path(...)).run(syncs=6)   # returns a Report; raises SimulationFailure on a miss
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from jsonschema import Draft7Validator

from integration_tests.fake_periskope import CURSOR_FIELDS, KEY_FIELDS, PHONE_STREAMS, STREAMS, FakePeriskope, primary_key
from integration_tests.fake_periskope.faults import DEFAULT_KINDS
from integration_tests.support.connector import connector_command
from integration_tests.support.paths import PROJECT_ROOT
from source_periskope.normalize import from_iso

SCHEMAS = PROJECT_ROOT / "source_periskope" / "schemas"

# The field a change writes a unique marker into, per stream (None: never changed). The stream facts themselves
# come from the fake server, the oracle.
MARKER_FIELDS = {"tickets": "subject", "messages": "body", "chats": "chat_name", "contacts": "contact_name",
                 "notifications": None, "notes": "body", "reactions": "reaction", "phones": None}
LATE_STREAMS = ("messages", "notifications", "notes", "reactions")
SIMULATION_SIZES = {"tickets": 1300, "contacts": 1600, "chats": 30, "messages": 900, "notifications": 80, "notes": 70,
                    "reactions": 150}
HISTORY_AGE_SECONDS = 3 * 86_400  # the organisation's generated history ends three days before the first sync
SETTLE_SECONDS = 300  # the connector's settle margin: records younger than this are read again anyway
CLOCKS_BEHIND = (0, 0, 120, 600)  # seconds the server's clock runs behind, drawn per seed
TYPED_STATE_PROBABILITY = 0.2  # before a sync, the state is edited by hand
BROADCAST_PROBABILITY = 0.25  # before a sync, many messages arrive in one second
BROADCAST_SIZES = (20, 150, 400)  # the simulation's page sizes are 100, 250 and 1000
# How a person types a state's date in the Airbyte UI: the same moment, or the midnight of its day (never later).
TYPED_FORMS = {
    "no offset": lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S"),
    "+00": lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S+00"),
    "date only": lambda moment: moment.strftime("%Y-%m-%d"),
    "+05:30": lambda moment: moment.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat(),
}


class SimulationFailure(AssertionError):
    pass


@dataclass
class Change:
    marker: Any
    promised: bool
    before_sync: int  # the first sync that started after the change was made


@dataclass
class Report:
    seed: int
    syncs: int = 0
    completed: int = 0
    killed: int = 0
    records_emitted: int = 0
    duplicates: int = 0
    changes: Counter = field(default_factory=Counter)
    faults_served: int = 0
    checked_records: int = 0
    checked_versions: int = 0
    misses: List[str] = field(default_factory=list)
    schema_errors: List[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"seed {self.seed}: {self.syncs} syncs ({self.completed} completed, {self.killed} killed), "
                f"{self.records_emitted} records emitted, {self.duplicates} duplicates, {self.faults_served} faults, "
                f"{sum(self.changes.values())} changes ({dict(self.changes)}), checked {self.checked_records} records "
                f"and {self.checked_versions} versions, {len(self.misses)} misses, {len(self.schema_errors)} schema errors")


class Warehouse:
    """What a destination keeps: rows deduplicated on the primary key (highest cursor, then latest emission)."""

    def __init__(self) -> None:
        self.rows: Dict[str, Dict[Tuple, Dict[str, Any]]] = defaultdict(dict)
        self.emitted: Counter = Counter()
        self.newest: Dict[Tuple[str, str], datetime] = {}  # (stream, org_phone) -> newest cursor emitted

    def take(self, stream: str, data: Dict[str, Any]) -> None:
        cursor = CURSOR_FIELDS[stream]
        key = tuple(data.get(name) for name in primary_key(stream))
        self.emitted[(stream, key)] += 1
        old = self.rows[stream].get(key)
        if old is None or (_moment(data.get(cursor)) or _EPOCH) >= (_moment(old.get(cursor)) or _EPOCH):
            self.rows[stream][key] = data
        moment = _moment(data.get(cursor))
        if moment is not None and stream in PHONE_STREAMS:
            slot = (stream, data.get("org_phone"))
            self.newest[slot] = max(moment, self.newest.get(slot, moment))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _moment(value: Any) -> Optional[datetime]:
    try:
        return from_iso(value) if isinstance(value, str) else None
    except ValueError:
        return None


class Simulation:
    def __init__(self, seed: int, workdir: Path, kill_probability: float = 0.15, fault_rate: float = 0.03,
                 log: Any = None, clock_behind_seconds: Optional[float] = None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.workdir = workdir
        self.kill_probability = kill_probability
        self.fault_rate = fault_rate
        self.log = log or (lambda text: None)
        self.report = Report(seed)
        self.warehouse = Warehouse()
        self.changes: Dict[Tuple[str, Tuple], List[Change]] = defaultdict(list)
        self.created: Dict[Tuple[str, Tuple], int] = {}  # records the simulation added: the sync that must see them
        self.exempt: set = set()  # late records older than the newest emitted: promised only within lookback_days
        self.state: List[Dict[str, Any]] = []
        self.sync_index = 0
        self.offline: Dict[str, int] = {}  # phone number -> syncs left before it reconnects
        self.trace: List[str] = []  # what happened, for the failure report
        self.validators = {s: Draft7Validator(json.loads((SCHEMAS / f"{s}.json").read_text())) for s in STREAMS}
        if clock_behind_seconds is None:  # its own generator: the other draws of a seed stay as they were
            clock_behind_seconds = random.Random(f"{seed}/clock").choice(CLOCKS_BEHIND)
        self.clock_behind_seconds = clock_behind_seconds
        self.server = FakePeriskope(seed=seed, sizes=SIMULATION_SIZES, connected_phones=3, quiet_phones=1,
                                    history_age_seconds=HISTORY_AGE_SECONDS, clock_behind_seconds=clock_behind_seconds)
        # Half the seeds list the records of one second in another order on every request (undocumented order).
        self.server.unstable_ties = random.Random(f"{seed}/ties").random() < 0.5
        self.lookback_days = self.rng.choice([0, 1])
        self.numbers = [p["number"] for p in self.server.phones if p["wa_state"] == "CONNECTED"]
        self.config = {
            "api_key": self.server.api_key, "phone_number": self.numbers[0], "additional_phone_numbers": self.numbers[1:],
            "page_size": self.rng.choice([100, 250, 1000]), "window_days": self.rng.choice([3, 7, 30]),
            "lookback_days": self.lookback_days, "num_workers": self.rng.choice([2, 4]), "max_retries": 10,
            "retry_backoff_seconds": 0.05,
        }
        self.catalog = self._catalog()

    # -- running ------------------------------------------------------------------------------------------------
    def run(self, syncs: int) -> Report:
        with self.server.start():
            self.config["base_url"] = self.server.base_url
            self.server.faults.configure(kinds=[k for k in DEFAULT_KINDS if not k.startswith("429")], seed=self.seed)
            for _ in range(syncs):
                self.step()
            self.report.faults_served = sum(self.server.faults.served.values())
        if self.report.misses or self.report.schema_errors:
            raise SimulationFailure(f"{self.report.line()}\nreplay with seed {self.seed}\n"
                                    + "\n".join(self.report.misses[:20] + self.report.schema_errors[:20])
                                    + "\nlast changes:\n" + "\n".join(self.trace[-40:]))
        return self.report

    def step(self) -> None:
        self.sync_index += 1
        # Each step draws from its own generator, so a seed replays step by step even where timing differs.
        self.rng = random.Random(f"{self.seed}/{self.sync_index}")
        if self.sync_index > 1:
            self._change_between_syncs()
            self._type_the_state_by_hand()
        self._schedule_changes_during_sync()
        if self.clock_behind_seconds:
            self.report.changes[f"sync with the server clock {self.clock_behind_seconds:.0f} s behind"] += 1
        self.server.faults.configure(rate=self.fault_rate if self.rng.random() < 0.7 else 0.0)
        kill_after = self.rng.randint(1, 8) if self.sync_index > 1 and self.rng.random() < self.kill_probability else None
        if kill_after:
            self._note(f"the sync is killed after {kill_after} state messages")
        started = datetime.now(timezone.utc)
        completed = self._sync(kill_after)
        self.server.faults.configure(rate=0.0)
        self.report.syncs += 1
        if completed:
            self.report.completed += 1
            self._check(started)
        else:
            self.report.killed += 1
        self.log(f"sync {self.sync_index}: {'completed' if completed else 'killed'}; {self.report.line()}")

    def _sync(self, kill_after: Optional[int]) -> bool:
        with tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            files = {}
            for name, content in (("config", self.config), ("catalog", self.catalog), ("state", self.state)):
                files[name] = Path(tmp) / f"{name}.json"
                files[name].write_text(json.dumps(content))
            args = [connector_command(), "read", "--config", str(files["config"]), "--catalog", str(files["catalog"])]
            if self.state:
                args += ["--state", str(files["state"])]
            process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
            pending: List[Tuple[str, Dict[str, Any]]] = []
            states: Dict[str, Dict[str, Any]] = {}
            errors = []
            killed = False
            state_count = 0
            for line in process.stdout:
                if not line.strip():
                    continue
                message = json.loads(line)
                if message["type"] == "RECORD":
                    pending.append((message["record"]["stream"], message["record"]["data"]))
                elif message["type"] == "STATE":
                    states[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
                    self._commit(pending)
                    pending = []
                    state_count += 1
                    if kill_after is not None and state_count >= kill_after:
                        process.send_signal(signal.SIGKILL)
                        killed = True
                        break
                elif message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
                    errors.append(message["trace"]["error"]["message"])
            stderr = process.stderr.read()
            process.wait()
        self.state = list({**{s["stream"]["stream_descriptor"]["name"]: s for s in self.state}, **states}.values())
        if killed:
            return False
        self._commit(pending)
        if process.returncode != 0 or errors:
            raise SimulationFailure(f"seed {self.seed}, sync {self.sync_index} failed: {errors[:3]} {stderr[-2000:]}")
        return True

    def _commit(self, records: List[Tuple[str, Dict[str, Any]]]) -> None:
        for stream, data in records:
            self.report.records_emitted += 1
            for problem in self.validators[stream].iter_errors(data):
                self.report.schema_errors.append(f"sync {self.sync_index} {stream}: {problem.message} at {list(problem.path)}")
            self.warehouse.take(stream, data)
        self.report.duplicates = sum(count - 1 for count in self.warehouse.emitted.values())

    # -- the oracle -----------------------------------------------------------------------------------------------
    def _check(self, started: datetime) -> None:
        for stream in STREAMS:
            held, marker_field = self.warehouse.rows[stream], MARKER_FIELDS[stream]
            for record in self.server.records(stream):
                key = self._key(stream, record)
                if self.created.get((stream, key), 0) > self.sync_index or (stream, key) in self.exempt:
                    continue  # made during this sync (the next one must see it), or not promised
                self.report.checked_records += 1
                if key not in held:
                    self.report.misses.append(f"sync {self.sync_index}: {stream} {key} was never emitted")
                    continue
                self._check_version(stream, key, held[key], marker_field)

    def _check_version(self, stream: str, key: Tuple, row: Dict[str, Any], marker_field: Optional[str]) -> None:
        changes = self.changes.get((stream, key))
        if not changes or marker_field is None or not all(change.promised for change in changes):
            return
        due = [n for n, change in enumerate(changes) if change.before_sync <= self.sync_index]
        if not due:
            return
        self.report.checked_versions += 1
        acceptable = {change.marker for change in changes[due[-1]:]}
        if row.get(marker_field) not in acceptable:
            self.report.misses.append(
                f"sync {self.sync_index}: {stream} {key} holds {marker_field}={row.get(marker_field)!r}, "
                f"expected {changes[due[-1]].marker!r} (or later)")

    # -- changes --------------------------------------------------------------------------------------------------
    def _change_between_syncs(self) -> None:
        for _ in range(self.rng.randint(2, 8)):
            self.rng.choice([self._insert, self._update, self._update, self._edit, self._late, self._soft_delete,
                             self._hard_delete])(before_sync=self.sync_index)
        if self.rng.random() < BROADCAST_PROBABILITY:
            self._broadcast(before_sync=self.sync_index)
        self._outages()

    def _schedule_changes_during_sync(self) -> None:
        """Changes while the sync pages: records entering lists, and leaving them above the reader (a chat of page 1
        gets a message and moves past the window; a record near the top is deleted)."""
        for _ in range(self.rng.randint(0, 4)):
            action = self.rng.choice([self._insert, self._update, self._update_old_ticket, self._activity_on_a_newest_chat,
                                      self._delete_near_the_top])
            self.server.at_request(self.rng.randint(1, 30), lambda act=action: act(before_sync=self.sync_index + 1))

    def _activity_on_a_newest_chat(self, before_sync: int) -> None:
        """One of a number's newest chats (page 1 of its window) gets a message: its updated_at moves to now."""
        phone = self._phone(online_only=True)
        records = self.server.records("chats", phone)[:3]
        if records:
            marker = self._marker()
            new = self.server.update_record("chats", self.rng.choice(records)["chat_id"], phone, chat_name=marker)
            self._record("chats", "activity on a newest chat", self._key("chats", new), marker, True, before_sync)

    def _delete_near_the_top(self, before_sync: int) -> None:
        """A record above the reader leaves the list: every later record moves up one place."""
        stream = self.rng.choice(["tickets", "contacts", "messages"])
        phone = self._phone(online_only=True) if stream == "messages" else None
        records = self.server.records(stream, phone)[:5]
        if records:
            self.server.hard_delete(stream, self.rng.choice(records)[KEY_FIELDS[stream]], phone)
            self.report.changes["hard delete near the top"] += 1

    def _broadcast(self, before_sync: int) -> None:
        """Many messages in one second (a broadcast), sometimes more than a page holds."""
        phone = self._phone(online_only=True)
        count = self.rng.choice(BROADCAST_SIZES)
        second = (self._server_now() - timedelta(seconds=self.rng.uniform(5, 60))).replace(microsecond=0)
        for n in range(count):
            stamp = (second + timedelta(microseconds=n * 1000)).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
            record = self.server.add_record("messages", phone, timestamp=stamp)
            self.created[("messages", self._key("messages", record))] = before_sync
        self._note(f"broadcast of {count} messages on {phone} at {second.isoformat()}")
        self.report.changes["broadcast"] += 1

    def _type_the_state_by_hand(self) -> None:
        """The state edited in the Airbyte UI: every date of one stream's state rewritten in a form a person types."""
        if not self.state or self.rng.random() >= TYPED_STATE_PROBABILITY:
            return
        message = self.rng.choice(self.state)
        form = self.rng.choice(sorted(TYPED_FORMS))
        stream_state = message["stream"]["stream_state"]
        for cursor in [entry["cursor"] for entry in stream_state.get("states", [])] or [stream_state]:
            for name, value in cursor.items():
                moment = _moment(value.replace("Z", "+00:00")) if isinstance(value, str) else None
                if moment is not None:
                    cursor[name] = TYPED_FORMS[form](moment)
        self._note(f"the state of {message['stream']['stream_descriptor']['name']} typed by hand ({form}): {stream_state}")
        self.report.changes["state typed by hand"] += 1

    def _server_now(self) -> datetime:
        """The server's clock (behind real time on some seeds): late records are dated by it."""
        return datetime.fromtimestamp(self.server.clock_seconds(), timezone.utc)

    def _note(self, text: str) -> None:
        self.trace.append(f"before sync {self.sync_index}: {text}")

    def _record(self, stream: str, change: str, key: Tuple, marker: Any, promised: bool, before_sync: int) -> None:
        self._note(f"{change} {stream} {key} -> {marker!r} ({'promised' if promised else 'not promised'}, due {before_sync})")
        self.report.changes[change] += 1
        self.changes[(stream, key)].append(Change(marker, promised, before_sync))

    def _marker(self) -> str:
        return f"sim {self.sync_index}-{self.rng.getrandbits(32):08x}"

    def _phone(self, online_only: bool = False) -> str:
        choices = [n for n in self.numbers if not (online_only and n in self.offline)]
        return self.rng.choice(choices or self.numbers)

    def _key(self, stream: str, record: Dict[str, Any]) -> Tuple:
        return tuple(record.get(name) for name in primary_key(stream))

    def _insert(self, before_sync: int) -> None:
        stream = self.rng.choice(["tickets", "contacts", "messages", "messages", "chats", "notifications", "notes", "reactions"])
        phone = self._phone() if stream in PHONE_STREAMS else None
        record = self.server.add_record(stream, phone)
        self._note(f"insert {stream} {self._key(stream, record)} at {record.get(CURSOR_FIELDS[stream])}{' (held: offline)' if phone in self.offline else ''}")
        if phone not in self.offline:  # an offline phone's records appear (and are due) when it reconnects
            self.created[(stream, self._key(stream, record))] = before_sync
        self.report.changes["insert"] += 1

    def _update(self, before_sync: int) -> None:
        """An update that moves the record's cursor: tickets, contacts, chats."""
        stream = self.rng.choice(["tickets", "contacts", "chats"])
        phone = self._phone(online_only=True) if stream == "chats" else None
        records = self.server.records(stream, phone)
        if not records:
            return
        record = self.rng.choice(records)
        marker = self._marker()
        new = self.server.update_record(stream, record[KEY_FIELDS[stream]], phone, **{MARKER_FIELDS[stream]: marker})
        self._record(stream, "update", self._key(stream, new), marker, True, before_sync)

    def _update_old_ticket(self, before_sync: int) -> None:
        """Tickets are listed by creation: an old one changed during a sync sits on a page already read."""
        records = self.server.records("tickets")
        if records:
            marker = self._marker()
            new = self.server.update_record("tickets", records[-self.rng.randint(1, 50)]["ticket_id"], subject=marker)
            self._record("tickets", "update", self._key("tickets", new), marker, True, before_sync)

    def _edit(self, before_sync: int) -> None:
        """An edit that keeps the record's timestamp: promised only within lookback_days."""
        stream = self.rng.choice(["messages", "notes", "reactions"])
        phone = self._phone(online_only=True)
        records = self.server.records(stream, phone)[:40]
        if not records:
            return
        record = self.rng.choice(records)
        age = datetime.now(timezone.utc) - _moment(record["timestamp"])
        promised = self.lookback_days > 0 and age < timedelta(days=self.lookback_days) - timedelta(hours=1)
        marker = "👍" + self._marker() if stream == "reactions" else self._marker()
        new = self.server.update_record(stream, record[KEY_FIELDS[stream]], phone, **{MARKER_FIELDS[stream]: marker})
        self._record(stream, "edit", self._key(stream, new), marker, promised, before_sync)

    def _soft_delete(self, before_sync: int) -> None:
        stream = self.rng.choice(["tickets", "messages", "notes"])
        phone = self._phone(online_only=True) if stream != "tickets" else None
        records = self.server.records(stream, phone)[:200]
        if not records:
            return
        record = self.rng.choice(records)
        marker = self._marker()
        promised = stream == "tickets" or (
            self.lookback_days > 0
            and datetime.now(timezone.utc) - _moment(record["timestamp"]) < timedelta(days=self.lookback_days) - timedelta(hours=1))
        new = self.server.update_record(stream, record[KEY_FIELDS[stream]], phone, is_deleted=True, **{MARKER_FIELDS[stream]: marker})
        self._record(stream, "soft delete", self._key(stream, new), marker, promised, before_sync)

    def _hard_delete(self, before_sync: int) -> None:
        stream = self.rng.choice(["tickets", "contacts", "messages"])
        phone = self._phone(online_only=True) if stream == "messages" else None
        records = self.server.records(stream, phone)
        if records:
            self.server.hard_delete(stream, self.rng.choice(records)[KEY_FIELDS[stream]], phone)
            self.report.changes["hard delete"] += 1  # not in the oracle: the destination keeps the row

    def _late(self, before_sync: int) -> None:
        """Records that reach the API late, newer than the newest one emitted for their stream and number."""
        stream = self.rng.choice(LATE_STREAMS)
        phone = self._phone(online_only=True)
        newest = self.warehouse.newest.get((stream, f"{phone}@c.us"))
        if newest is None:
            return
        gap = (self._server_now() - newest).total_seconds() - SETTLE_SECONDS - 5
        if gap < 60:
            return
        count = self.rng.randint(1, 5)
        age = self.rng.uniform(SETTLE_SECONDS + count * 2, SETTLE_SECONDS + gap)
        for record in self.server.deliver_late(stream, phone, count, newest_age_seconds=age, spacing_seconds=1):
            self.created[(stream, self._key(stream, record))] = before_sync
            self._note(f"late {stream} {self._key(stream, record)} at {record['timestamp']} (newest emitted {newest.isoformat()})")
        self.report.changes["late"] += count

    def _outages(self) -> None:
        """A phone goes offline (backdated to just after its newest record) and delivers its backlog later."""
        for number in list(self.offline):
            self.offline[number] -= 1
            if self.offline[number] <= 0:
                backlog = self.server.held_back(number)
                self.server.reconnect(number)
                self._note(f"reconnect {number}: {len(backlog)} records, oldest {min(r.get('timestamp') or '' for _, r in backlog) if backlog else None}")
                for stream, record in backlog:  # due from the next sync on, if newer than what was emitted
                    key = (stream, self._key(stream, record))
                    if self._promised_late(stream, number, record):
                        self.created[key] = self.sync_index
                    else:
                        self.exempt.add(key)
                del self.offline[number]
                self.report.changes["backlog delivered"] += 1
        if self.offline or self.rng.random() > 0.3:
            return
        number = self._phone(online_only=True)
        emitted = [self.warehouse.newest.get((stream, f"{number}@c.us")) for stream in LATE_STREAMS]
        if None in emitted:
            return
        newest = max(emitted)  # the outage starts after the newest record of every stream of that number
        since = (datetime.now(timezone.utc) - newest).total_seconds() - 10
        if since < 2 * SETTLE_SECONDS:
            return
        self.server.disconnect(number, started_seconds_ago=since)
        self._note(f"disconnect {number}, backdated {since:.0f} s (newest emitted {newest.isoformat()})")
        for stream in ("messages", "messages", "notes", "reactions", "notifications"):
            self.server.outage_traffic(number, self.rng.randint(1, 6), stream)
        self.offline[number] = self.rng.randint(1, 2)
        self.report.changes["outage"] += 1

    def _promised_late(self, stream: str, number: str, record: Dict[str, Any]) -> bool:
        """A record that appears late is promised if it is newer than the newest one emitted for its stream and
        number (states keep whole seconds), or within lookback_days."""
        moment = _moment(record.get("timestamp"))
        newest = self.warehouse.newest.get((stream, f"{number}@c.us"))
        if moment is None:
            return True
        if newest is None or moment >= newest.replace(microsecond=0) + timedelta(seconds=1):
            return True
        return self.lookback_days > 0 and datetime.now(timezone.utc) - moment < timedelta(days=self.lookback_days) - timedelta(hours=1)

    def _catalog(self) -> Dict[str, Any]:
        streams = []
        for name in STREAMS:
            key_fields, cursor = primary_key(name), CURSOR_FIELDS[name]
            schema = json.loads((SCHEMAS / f"{name}.json").read_text())
            streams.append({
                "stream": {"name": name, "json_schema": schema, "supported_sync_modes": ["full_refresh", "incremental"],
                           "source_defined_cursor": True, "default_cursor_field": [cursor],
                           "source_defined_primary_key": [[f] for f in key_fields]},
                "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
                "cursor_field": [cursor], "primary_key": [[f] for f in key_fields],
            })
        return {"streams": streams}
