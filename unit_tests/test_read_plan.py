"""The read plan's decisions from the saved state: which numbers are read, from where, and the client-side floor."""

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests_mock
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


# -- the probes under a rate limit, and when they fail ------------------------------------------------------
PHONE = "919876543210"
OLDEST = datetime(2024, 3, 10, 8, 30, tzinfo=timezone.utc)


def messages_from(oldest, rate_limited=0):
    """/chats/messages of a number whose records start at `oldest`; the first `rate_limited` requests are answered
    429 with nothing left and a Reset written as this very second (rounded down, as most servers write it)."""
    calls = []

    def answer(request, context):
        calls.append(request)
        if len(calls) <= rate_limited:
            context.status_code = 429
            context.headers.update({"X-RateLimit-Limit": "40", "X-RateLimit-Remaining": "0",
                                    "X-RateLimit-Reset": str(int(time.time()))})
            return {"message": "Too many requests"}
        if "end_time" not in request.qs:  # all history's first request has open ends
            found = True
        else:
            end = datetime.strptime(request.qs["end_time"][0].upper(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            found = oldest <= end
        return {"from": 1, "to": int(found), "count": int(found), "messages": [{"message_id": "m"}] if found else []}
    return answer, calls


def test_a_probe_that_meets_rate_limits_waits_its_turn_instead_of_giving_up():
    """More 429s in a row than max_retries: a rate limit is not a failure of the probe."""
    answer, calls = messages_from(OLDEST, rate_limited=12)
    with requests_mock.Mocker() as http:
        http.get(re.compile(r"https://api\.periskope\.app/v1/chats/messages"), json=answer)
        plan = plan_read(config(), {"messages": "full_refresh"}, {}, [PHONE], now=NOW)

    begin = datetime.fromisoformat(plan["streams"]["messages"]["numbers"][PHONE]["begin"].replace("Z", "+00:00"))
    assert OLDEST - timedelta(days=9) <= begin <= OLDEST
    assert len(calls) <= 12 + 14


@pytest.mark.parametrize("mode, extra, begin, most_windows", [
    ("full_refresh", {}, "2009-01-01T00:00:00Z", 12),  # all history: a few long windows, not one per 30 days
    ("incremental", {"start_date": "2025-06-01"}, "2025-06-01T00:00:00Z", 18),  # from start_date, as configured
])
def test_a_probe_that_fails_falls_back_to_a_bounded_plan(mode, extra, begin, most_windows):
    with requests_mock.Mocker() as http:
        http.get(re.compile(r"https://api\.periskope\.app/v1/chats/messages"), status_code=500, json={})
        plan = plan_read(config(max_retries=1, **extra), {"messages": mode}, {}, [PHONE], now=NOW)

    entry = plan["streams"]["messages"]
    assert entry["numbers"][PHONE]["begin"] == begin and entry["phones_to_read"] == [PHONE]
    days = (NOW - datetime.fromisoformat(begin.replace("Z", "+00:00"))).days
    assert days / entry["window_days"] <= most_windows
    assert entry["window_days"] == 30 or mode == "full_refresh"
