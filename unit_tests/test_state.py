"""The state rule (SettledStateConverter) and each number's starting state (PlannedPerPhoneState)."""

from datetime import datetime, timedelta, timezone

from source_periskope.state import PlannedPerPhoneState, SettledStateConverter, saved_floor

START = datetime(2026, 10, 1, tzinfo=timezone.utc)
MIDDLE = datetime(2026, 10, 31, tzinfo=timezone.utc)
END = datetime(2026, 11, 15, 12, tzinfo=timezone.utc)
SETTLED = END - timedelta(minutes=5)


def converter(settled_before=SETTLED):
    made = SettledStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ")
    made.settled_before = settled_before
    return made


def test_the_state_is_the_newest_record_read():
    newest = datetime(2026, 11, 2, 8, tzinfo=timezone.utc)
    windows = [{"start": START, "end": MIDDLE}, {"start": MIDDLE, "end": END, "most_recent_cursor_value": newest}]
    assert converter()._get_latest_complete_time(windows) == newest


def test_with_no_record_read_the_state_stays_where_reading_started():
    assert converter()._get_latest_complete_time([{"start": START, "end": MIDDLE}, {"start": MIDDLE, "end": END}]) == START


def test_the_state_stops_short_of_the_sync_start_by_the_settle_margin():
    just_now = END - timedelta(seconds=30)
    assert converter()._get_latest_complete_time([{"start": START, "end": END, "most_recent_cursor_value": just_now}]) == SETTLED


def test_the_state_never_passes_the_end_of_the_windows_read_without_a_gap():
    beyond = datetime(2026, 11, 10, tzinfo=timezone.utc)  # a record the first window returned, dated after it
    gap = [{"start": START, "end": MIDDLE, "most_recent_cursor_value": beyond}, {"start": MIDDLE + timedelta(days=3), "end": END}]
    assert converter()._get_latest_complete_time(gap) == MIDDLE


def planned(numbers, stream_state=None):
    config = {"read_plan": {"streams": {"messages": {"numbers": numbers}}},
              "start_date_by_stream": {"messages": "2026-10-01T00:00:00Z"}}
    migration = PlannedPerPhoneState(config=config, parameters={"name": "messages"})
    assert migration.should_migrate(stream_state or {})
    return migration.migrate(stream_state or {})["states"]


def test_a_number_read_in_this_sync_starts_at_the_plans_begin_and_keeps_its_saved_state_as_a_floor():
    (state,) = planned({"919876543210": {"begin": "2026-11-10T07:59:59Z", "saved": "2026-11-10T08:00:00Z"}})
    assert state["cursor"] == {"state_type": "date-range", "slices": [
        {"start": "2026-10-01T00:00:00Z", "end": "2026-11-10T07:59:59Z", "most_recent_cursor_value": "2026-11-10T08:00:00Z"}]}


def test_a_number_not_read_keeps_its_state_or_the_start_date():
    states = planned({"919876543210": {"begin": None, "saved": "2026-11-10T08:00:00Z"},
                      "918527184400": {"begin": None, "saved": None}})
    assert [s["cursor"] for s in states] == [{"timestamp": "2026-11-10T08:00:00Z"}, {"timestamp": "2026-10-01T00:00:00Z"}]


def test_a_number_no_longer_configured_keeps_its_saved_state_and_the_global_state_is_dropped():
    removed = {"partition": {"phone": "447700900123"}, "cursor": {"timestamp": "2026-09-01T00:00:00Z"}}
    states = planned({"919876543210": {"begin": None, "saved": None}},
                     {"states": [removed], "state": {"timestamp": "2026-11-01T00:00:00Z"}, "lookback_window": 3})
    assert removed in states and len(states) == 2


def test_a_later_window_closing_first_keeps_the_state_at_the_saved_one_not_at_the_first_windows_start():
    saved, begin = "2026-11-10T08:00:00Z", "2026-11-03T07:59:59Z"  # the state less a second and 7 days of lookback
    (state,) = planned({"919876543210": {"begin": begin, "saved": saved}})
    made = converter()
    made.floor = saved_floor(state["cursor"])
    first_slice = {key: made.parse_timestamp(value) for key, value in state["cursor"]["slices"][0].items()}
    later_window = {"start": datetime(2026, 11, 12, tzinfo=timezone.utc), "end": END,
                    "most_recent_cursor_value": datetime(2026, 11, 14, tzinfo=timezone.utc)}
    assert made._get_latest_complete_time([first_slice, later_window]) == made.parse_timestamp(saved)


def test_the_floor_is_what_the_starting_state_saved():
    assert saved_floor({"timestamp": "2026-11-10T08:00:00Z"}) == datetime(2026, 11, 10, 8, tzinfo=timezone.utc)
    assert saved_floor({"state_type": "date-range", "slices": [{"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}]}) is None
    assert saved_floor({"states": [], "use_global_cursor": False}) is None
