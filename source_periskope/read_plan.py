"""Before a read: for each stream, which WhatsApp numbers are read and from where, decided from the saved state.

The rules (docs/behavior.md tells why):
- A stream's saved state, per number, is the newest record it emitted, never later than the sync's start less
  SETTLE_MARGIN (state.py). A record newer than that is read by a later sync however late it reaches the API.
- Phone-scoped streams with a saved state: one `limit=1` probe from the state to now. If the newest record there
  is not newer than the state, nothing is new and the number is not read (its state is kept as it was); else its
  windows are read from the state less one second. With lookback_days the windows start that much earlier and
  no probe is made (an edit does not move a record's cursor, so a probe cannot see it).
- Phone-scoped streams with no record emitted yet (first sync, full refresh): a few `limit=1` requests find where
  the history begins, and one more bounded request confirms it before anything is skipped (probes.py). A probe
  waits out rate limits like any request; one that fails all the same reads from the configured start: with
  start_date set in the stream's windows, else (all history since 2009) in at most UNPROBED_WINDOWS windows.
- Tickets, contacts and phones cannot be filtered by time: every page is read and, in incremental syncs, records
  not newer than the state (less lookback_days) are dropped (`floor_of`).
State values keep whole seconds (the API filters to the second): "newer than the state" means at or after the next
second.

The plan travels to the streams inside the config (key PLAN_KEY): the partition router reads `phones_to_read`, the
windowed cursor `window_days`,
PlannedPerPhoneState (state.py) turns `numbers` into each number's starting state, EmittedRecords
(components.py) reads `floor`, and the state converters read `settled_before`.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope import probes
from source_periskope.config import ALL_HISTORY_START, STATE_DATETIME_FORMAT
from source_periskope.normalize import NotATimestamp, from_iso, normalize_timestamp
from source_periskope.server_clock import clock_for
from source_periskope.stream_facts import StreamFacts, all_streams

logger = logging.getLogger("airbyte")

PLAN_KEY = "read_plan"
SETTLE_MARGIN = timedelta(minutes=5)
MAX_CLOCK_SKEW = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)
UNPROBED_WINDOWS = 12  # a number whose probe failed, with all history to read, is read in at most this many windows


# -- values -----------------------------------------------------------------------------------------------
def parse_cursor(value: Any) -> Optional[datetime]:
    """A cursor value (from a record or a state) as an aware UTC datetime; None when it is not a date-time."""
    if not isinstance(value, str):
        return None
    try:
        return from_iso(normalize_timestamp(value))
    except (NotATimestamp, ValueError):
        return None


def state_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(STATE_DATETIME_FORMAT)


def floor_of(config: Mapping[str, Any], stream: str) -> Optional[datetime]:
    """The client-side filter's floor for an org-level stream in this read (None: keep every record)."""
    floor = ((config.get(PLAN_KEY) or {}).get("streams", {}).get(stream) or {}).get("floor")
    return parse_cursor(floor) if floor else None


def settled_before(config: Mapping[str, Any]) -> Optional[datetime]:
    """The latest value a state may take in this read: the sync's start less SETTLE_MARGIN, on the connector's clock
    (SettledStateConverter also takes the API's clock's lag off it: server_clock.py)."""
    value = (config.get(PLAN_KEY) or {}).get("settled_before")
    return parse_cursor(value) if value else None


# -- saved state --------------------------------------------------------------------------------------------
def _invalid_state(stream: str, problem: str) -> AirbyteTracedException:
    return AirbyteTracedException(
        message=f"Stream {stream}: the saved state {problem}. Reset this stream in Airbyte (or remove it from the state "
        "file) to sync it again from start_date.",
        failure_type=FailureType.config_error,
    )


def saved_value(stream: str, cursor: Any, cursor_field: str, where: str = "") -> Optional[datetime]:
    """The cursor value of one saved state; a value that is not a date-time or lies in the future is refused,
    since it would crash the sync or silently skip records."""
    if not isinstance(cursor, Mapping):
        raise _invalid_state(stream, f"{where}is not an object: {cursor!r}")
    for field_name, value in cursor.items():
        moment = parse_cursor(value)
        if moment is None:
            raise _invalid_state(stream, f"{where}has {field_name}={value!r}, which is not a date-time")
        if moment > datetime.now(timezone.utc) + MAX_CLOCK_SKEW:
            raise _invalid_state(stream, f"{where}has {field_name}={value}, which is in the future: nothing would be synced")
    return parse_cursor(cursor.get(cursor_field))


# Keys the CDK keeps beside the per-number states.
_BOOKKEEPING = {"states", "state", "use_global_cursor", "lookback_window", "parent_state"}


def saved_per_number(stream: str, state: Mapping[str, Any], cursor_field: str, primary: str) -> Dict[str, Optional[datetime]]:
    """Each number's saved cursor value. A plain {"<cursor>": value} (a single-number connection's state) is the
    state of the primary phone_number."""
    if not state:
        return {}
    if "states" not in state:
        return {primary: saved_value(stream, {k: v for k, v in state.items() if k not in _BOOKKEEPING}, cursor_field)}
    entries = state["states"]
    if not isinstance(entries, list):
        raise _invalid_state(stream, f"has 'states' = {entries!r}, not a list of per-phone states")
    saved = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("partition"), Mapping):
            raise _invalid_state(stream, f"has a per-phone state without its phone: {entry!r}")
        phone = entry["partition"].get("phone")
        saved[phone] = saved_value(stream, entry.get("cursor"), cursor_field, f"of phone {phone} ")
    return saved


# -- the plan -----------------------------------------------------------------------------------------------
@dataclass
class NumberPlan:
    begin: Optional[datetime]  # where this number's windows start; None: not read in this sync
    saved: Optional[datetime]  # the saved state (the newest record emitted by earlier syncs), if any
    why: str  # for the log
    in_one_page: bool = False  # everything from `begin` to now fits in one page
    unprobed: bool = False  # its probe failed and all history is read: in a few long windows, not one per window_days


def plan_read(
    config: Mapping[str, Any],
    stream_modes: Mapping[str, str],
    stream_states: Mapping[str, Mapping[str, Any]],
    phones: List[str],
    now: Optional[datetime] = None,
) -> Dict[str, Any]:
    """The plan of this read, JSON-able, for the config. `stream_modes` maps each selected stream to
    "incremental" or "full_refresh"; `stream_states` holds their saved states."""
    now = now or datetime.now(timezone.utc)
    clock_for(config.get("base_url", "")).start_sync()  # the API's lag behind our clock, measured anew by every sync
    facts = all_streams()
    plan: Dict[str, Any] = {
        "settled_before": state_text(now - SETTLE_MARGIN),
        # Windows starting at all history's start send no start_time (the manifest's windowed_requester): records
        # dated before 2009 are read too. In a full refresh, the last window has no end_time either (`open_end_from`).
        "open_start": ALL_HISTORY_START,
        "streams": {},
    }
    tasks: List[Tuple[str, str, Optional[datetime]]] = []
    for name, mode in stream_modes.items():
        stream = facts[name]
        state = (stream_states.get(name) or {}) if mode == "incremental" else {}
        if stream.phone_scoped:
            saved = saved_per_number(name, state, stream.cursor_field, phones[0])
            tasks += [(name, phone, saved.get(phone)) for phone in phones]
        else:
            plan["streams"][name] = {"floor": _floor(config, name, mode, state, stream)}
    results = _plan_numbers(config, tasks, now)
    for name, mode in stream_modes.items():
        if facts[name].phone_scoped:
            numbers = {phone: results[(name, phone)] for phone in phones}
            plan["streams"][name] = _stream_entry(config, name, numbers, now)
            if mode != "incremental":
                # Every record, also those dated in the future (a phone with a skewed clock): an incremental sync
                # reads them once the clock reaches them, a full refresh has no later sync to wait for.
                plan["streams"][name]["open_end_from"] = state_text(now)
    return plan


def _floor(config: Mapping[str, Any], name: str, mode: str, state: Mapping[str, Any], facts: StreamFacts) -> Optional[str]:
    if mode != "incremental":
        return None
    saved = saved_value(name, {k: v for k, v in state.items() if k not in _BOOKKEEPING}, facts.cursor_field) if state else None
    start = parse_cursor(config["start_date"])
    if saved is None:
        return None if config["start_date"] == ALL_HISTORY_START else state_text(start)
    # State values keep whole seconds: the records of the state's own second were emitted by the sync that saved it.
    return state_text(max(start, saved + ONE_SECOND - timedelta(days=config["lookback_days"])))


def _plan_numbers(config: Mapping[str, Any], tasks: List[Tuple[str, str, Optional[datetime]]], now: datetime) -> Dict[Tuple[str, str], NumberPlan]:
    def plan_one(task: Tuple[str, str, Optional[datetime]]) -> NumberPlan:
        name, phone, saved = task
        return plan_number(config, all_streams()[name], phone, saved, now)

    with ThreadPoolExecutor(max_workers=max(1, int(config.get("num_workers", 4))), thread_name_prefix="plan") as pool:
        return {(task[0], task[1]): result for task, result in zip(tasks, pool.map(plan_one, tasks))}


def plan_number(config: Mapping[str, Any], stream: StreamFacts, phone: str, saved: Optional[datetime], now: datetime) -> NumberPlan:
    """Where one number of one phone-scoped stream starts reading in this sync."""
    start = parse_cursor(config["start_date_by_stream"][stream.name])
    if saved is None or saved <= start:  # nothing emitted yet: find where the history begins
        try:
            history = probes.history_begin(config, stream, phone, start, now)
        except probes.KeyRefused:
            raise  # every request would be refused: one config error, not a read of every window
        except Exception as problem:  # the probes only save requests: on any failure, read everything
            return NumberPlan(start, saved, f"reads from {state_text(start)} (could not probe its history: {problem})",
                              unprobed=state_text(start) == ALL_HISTORY_START)
        if history.begin is None:
            return NumberPlan(None, saved, "has no records")
        return NumberPlan(history.begin, saved, f"reads from {state_text(history.begin)}", history.in_one_page)
    lookback = timedelta(days=config["lookback_days"])
    begin = max(start, saved - ONE_SECOND - lookback)
    if lookback:
        return NumberPlan(begin, saved, f"reads from {state_text(begin)} ({config['lookback_days']} days of lookback)")
    try:
        newest = probes.newest_cursor(config, stream, phone, begin, now)
    except probes.KeyRefused:
        raise
    except Exception as problem:
        return NumberPlan(begin, saved, f"reads from {state_text(begin)} (could not probe it: {problem})")
    # State values keep whole seconds, so the record the state came from may be a fraction of a second newer.
    if newest is not probes.UNKNOWN and (newest is None or newest < saved + ONE_SECOND):
        return NumberPlan(None, saved, f"has nothing new since {state_text(saved)}")
    return NumberPlan(begin, saved, f"reads from {state_text(begin)}")


def _stream_entry(config: Mapping[str, Any], name: str, numbers: Mapping[str, NumberPlan], now: datetime) -> Dict[str, Any]:
    logger.info(f"Stream {name}: " + "; ".join(f"{phone} {plan.why}" for phone, plan in numbers.items()) + ".")
    return {
        "window_days": _window_days(config, numbers, now),
        "phones_to_read": [phone for phone, plan in numbers.items() if plan.begin is not None],
        "numbers": {
            phone: {
                "begin": state_text(plan.begin) if plan.begin else None,
                "saved": state_text(plan.saved) if plan.saved else None,
            }
            for phone, plan in numbers.items()
        },
    }


def _window_days(config: Mapping[str, Any], numbers: Mapping[str, NumberPlan], now: datetime) -> int:
    """window_days, or one window for the whole range when every number read fits in one page: a sparse stream
    (notes, reactions) would otherwise cost a request per empty window."""
    read = [plan for plan in numbers.values() if plan.begin is not None]
    unprobed = [plan for plan in read if plan.unprobed]
    if unprobed:  # bounded: a failed probe must not cost a request per window_days since 2009
        days = (now - min(plan.begin for plan in unprobed)).days + 1
        return max(config["window_days"], math.ceil(days / UNPROBED_WINDOWS))
    if read and all(plan.in_one_page for plan in read):
        return max(config["window_days"], (now - min(plan.begin for plan in read)).days + 1)
    return config["window_days"]


def stream_modes(catalog: Any) -> Dict[str, str]:
    """{stream: "incremental" | "full_refresh"} for the streams of a configured catalog that this connector has.

    A stream it does not have (a catalog saved by a version that named it otherwise) is left to the CDK, which
    reports it incomplete; planning it must not fail the streams that exist."""
    known = all_streams()
    modes = {}
    for entry in catalog.streams:
        if entry.stream.name in known:
            modes[entry.stream.name] = entry.sync_mode.value
        else:
            logger.warning(
                f"Stream {entry.stream.name} is in the configured catalog but this connector has no such stream (renamed "
                f"or removed in this version?): it is not synced. Refresh the source's schema in Airbyte. The streams "
                f"are: {', '.join(sorted(known))}."
            )
    return modes
