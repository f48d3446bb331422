"""The read plan's decisions from the saved state: which numbers are read, from where, and the client-side floor."""

from datetime import datetime, timezone

import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.config import normalize_config, start_dates
from source_periskope.read_plan import plan_read, saved_per_number

NOW = datetime(2026, 11, 15, 12, tzinfo=timezone.utc)


def config(**values):
    made = normalize_config({"api_key": "k", "phone_number": "919876543210", "base_url": "https://api.periskope.app/v1", **values})
    made["start_date_by_stream"] = start_dates(made)
    return made


def test_a_single_number_state_belongs_to_the_primary_number():
    saved = saved_per_number("messages", {"timestamp": "2026-11-01T00:00:00Z"}, "timestamp", "919876543210")
    assert saved == {"919876543210": datetime(2026, 11, 1, tzinfo=timezone.utc)}


@pytest.mark.parametrize("state, problem", [
    ({"timestamp": "soon"}, "has timestamp='soon', which is not a date-time"),
    ({"states": [{"cursor": {}}]}, "has a per-phone state without its phone"),
    ({"states": [{"partition": {"phone": "1"}, "cursor": {"timestamp": "2999-01-01T00:00:00Z"}}]}, "of phone 1 has timestamp="),
])
def test_an_unusable_state_is_refused_naming_the_stream(state, problem):
    with pytest.raises(AirbyteTracedException) as refusal:
        saved_per_number("messages", state, "timestamp", "919876543210")
    assert refusal.value.message.startswith("Stream messages: the saved state ") and problem in refusal.value.message


@pytest.mark.parametrize("mode, state, extra, floor", [
    ("full_refresh", {"updated_at": "2026-11-10T00:00:00Z"}, {}, None),  # a full refresh keeps every record
    ("incremental", {}, {}, None),  # no start_date, no state: all history
    ("incremental", {}, {"start_date": "2026-10-01"}, "2026-10-01T00:00:00Z"),
    ("incremental", {"updated_at": "2026-11-10T00:00:00Z"}, {}, "2026-11-10T00:00:01Z"),  # newer than the state
    ("incremental", {"updated_at": "2026-11-10T00:00:00Z"}, {"lookback_days": 2}, "2026-11-08T00:00:01Z"),
])
def test_the_client_side_floor_of_an_org_level_stream(mode, state, extra, floor):
    plan = plan_read(config(**extra), {"contacts": mode}, {"contacts": state}, ["919876543210"], now=NOW)
    assert plan["streams"]["contacts"] == {"floor": floor}
    assert plan["settled_before"] == "2026-11-15T11:55:00Z"
