"""How incremental state advances, and where each WhatsApp number's windows start.

The state of a stream (per number for the phone-scoped ones) is the newest record it emitted, within these bounds:
- never later than the end of the windows read without a gap, so an API whose time filter works on another field
  (the contract leaves open which one /chats uses) cannot move the state past windows not read yet;
- never later than the sync's start less SETTLE_MARGIN (read_plan.py), on the connector's clock and on the API's
  (server_clock.py): a record the API indexes a little after its time, a ticket updated while its page had already
  been read, or a record dated in the future are read again by the next sync;
- never below the state it started from (what earlier syncs emitted was read then).
A number that emitted nothing keeps its state (or, before its first record, the configured start), so a record
that reaches the API late, after a phone comes back online, is still read: the read plan's probe keeps such a
number cheap (one request when nothing is new).
"""

# No `from __future__ import annotations` here: the CDK builds these components with typing.get_type_hints,
# which on Python 3.10 cannot evaluate a string InitVar annotation.

from dataclasses import InitVar, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.streams.concurrent.state_converters.abstract_stream_state_converter import (
    ConcurrencyCompatibleStateType,
)
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)
from airbyte_cdk.sources.types import Config

from source_periskope.normalize import from_iso
from source_periskope.read_plan import PLAN_KEY, parse_cursor, state_text
from source_periskope.server_clock import ServerClock
from source_periskope.stream_facts import stream

_ZERO = timedelta(0)


class SettledStateConverter(CustomFormatConcurrentStreamStateConverter):
    """State = the newest record read, no later than the gap-free windows' end or `settled_before`, and never below
    `floor`, the state its cursor started from.

    It also reads and writes the cursor values of every record without strptime: records are normalised to
    RFC 3339 before the cursor sees them, and strptime through the CDK's format list was 20% of a sync's CPU.
    Anything fromisoformat cannot read still goes through the CDK's parser.
    """

    settled_before: Optional[datetime] = None  # set for each read (cdk_hooks), from the read plan
    floor: Optional[datetime] = None  # set per cursor (cdk_hooks): the state it started from (saved_floor)
    server_clock: Optional[ServerClock] = None  # set for each read (cdk_hooks): how far the API's clock is behind

    def parse_timestamp(self, timestamp: Any) -> datetime:
        if isinstance(timestamp, str):
            try:
                parsed = from_iso(timestamp)
            except ValueError:
                parsed = None
            if parsed is not None:
                return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
        return super().parse_timestamp(timestamp)

    def output_format(self, timestamp: datetime) -> str:
        if self._datetime_format == "%Y-%m-%dT%H:%M:%SZ" and timestamp.utcoffset() == _ZERO:
            return timestamp.isoformat(timespec="seconds")[:19] + "Z"  # what strftime gives, at a third of the cost
        return super().output_format(timestamp)

    def _get_latest_complete_time(self, slices: List[MutableMapping[str, Any]]) -> Any:
        first = self.merge_intervals(slices)[0]
        value = min(first.get(self.MOST_RECENT_RECORD_KEY) or first[self.START_KEY], first[self.END_KEY])
        if self.settled_before is not None:
            # On the API's clock too: a change made during the sync is dated by it (server_clock.py).
            lag = self.server_clock.behind() if self.server_clock is not None else _ZERO
            value = min(value, self.settled_before - lag)
        # What earlier syncs emitted was read then: while the first window (which starts below the saved state, by
        # a second and lookback_days) is still open, the gap-free end is that window's start, and a checkpoint there
        # would make a killed sync read the lookback again, and again after every kill.
        return max(value, self.floor) if self.floor is not None else value


def saved_floor(stream_state: Mapping[str, Any]) -> Optional[datetime]:
    """The newest record earlier syncs emitted, as a cursor's starting state holds it: a plain {cursor: value}, or
    the newest record of PlannedPerPhoneState's slice marked read; None when nothing was saved. The CDK may have
    parsed the slices already (they are then datetimes)."""
    if stream_state.get("state_type") == ConcurrencyCompatibleStateType.date_range.value:
        values = [piece.get(SettledStateConverter.MOST_RECENT_RECORD_KEY) for piece in stream_state.get("slices") or []]
    else:
        values = list(stream_state.values())
    moments = [value if isinstance(value, datetime) else parse_cursor(value) for value in values]
    return max((moment for moment in moments if moment is not None), default=None)


@dataclass
class PlannedPerPhoneState(StateMigration):
    """Gives each number of a phone-scoped stream the starting state the read plan decided (read_plan.py).

    - A number read in this sync starts at the plan's `begin`: it gets the CDK's concurrent state with one window,
      from the configured start to `begin`, marked read, whose newest record is the saved state (if any). The
      windows are read from `begin` on, and the state never falls below what was saved.
    - A number not read (nothing new, or no records at all) keeps its saved state, or the configured start.
    - A number no longer configured keeps its saved state untouched; the CDK's global "state" is dropped, so a
      newly added number backfills from start_date instead of starting from the other numbers' state.
    The saved states were checked by the plan (a bad one is a config error naming the stream and phone).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "?")

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return self._stream in (self.config.get(PLAN_KEY) or {}).get("streams", {})

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        numbers = self.config[PLAN_KEY]["streams"][self._stream]["numbers"]
        start = self.config["start_date_by_stream"][self._stream]
        cursor_field = stream(self._stream).cursor_field
        states: List[Dict[str, Any]] = [
            {"partition": {"phone": phone}, "cursor": _starting_cursor(number, start, cursor_field)}
            for phone, number in numbers.items()
        ]
        for entry in stream_state.get("states") or []:
            if entry["partition"].get("phone") not in numbers:
                states.append({**entry, "cursor": in_one_form(entry["cursor"])})
        return {"states": states, "use_global_cursor": False}


@dataclass
class TypedStateInOneForm(StateMigration):
    """Writes an org-level stream's saved state (tickets, contacts, phones) in the one form the CDK parses.

    The Airbyte UI lets a user edit a connection's state, and a date is what people type: "2025-01-01",
    "2025-01-01T00:00:00", "2025-01-01 00:00:00+00". The read plan accepts every form it reads as a date-time (and
    refuses the rest, naming the stream); the CDK's cursor parses only its own formats and would fail the sync with
    an internal error. The phone-scoped streams get their states from PlannedPerPhoneState, already in that form.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return bool(stream_state) and "state_type" not in stream_state

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        return in_one_form(stream_state)


def in_one_form(cursor: Any) -> Any:
    """A saved cursor with each date-time value written as the state is written (whole seconds, UTC, "Z"); values
    that are not date-times are left for the read plan to refuse."""
    if not isinstance(cursor, Mapping):
        return cursor
    return {key: state_text(moment) if (moment := parse_cursor(value)) else value for key, value in cursor.items()}


def _starting_cursor(number: Mapping[str, Optional[str]], start: str, cursor_field: str) -> Dict[str, Any]:
    if number["begin"] is None:
        return {cursor_field: number["saved"] or start}
    read = {"start": start, "end": number["begin"]}
    if number["saved"]:
        read["most_recent_cursor_value"] = number["saved"]
    return {"state_type": ConcurrencyCompatibleStateType.date_range.value, "slices": [read]}
