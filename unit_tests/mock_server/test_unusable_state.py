"""Saved state that would crash a sync or silently skip records is refused with an error naming the stream."""

import pytest
from airbyte_cdk.models import SyncMode

from freezegun import freeze_time

from unit_tests.mock_server.config import PHONE, ConfigBuilder
from unit_tests.mock_server.utils import MockedApi, read_stream

NOW = "2026-11-15T12:00:00Z"


@pytest.mark.parametrize(
    "stream, state, problem",
    [
        ("messages", {"timestamp": "not a date"}, "has timestamp='not a date', which is not a date-time"),
        ("messages", {"timestamp": "2999-01-01T00:00:00Z"}, "which is in the future: nothing would be synced"),
        ("messages", {"states": "garbage"}, "has 'states' = 'garbage', not a list of per-phone states"),
        ("chats", {"states": [{"partition": {"phone": PHONE}, "cursor": {"updated_at": "2999-01-01T00:00:00Z"}}]},
         f"of phone {PHONE} has updated_at=2999-01-01T00:00:00Z, which is in the future"),
        ("tickets", {"last_updated_at": "yesterday"}, "has last_updated_at='yesterday', which is not a date-time"),
        ("contacts", {"updated_at": "2999-01-01T00:00:00Z"}, "which is in the future"),
    ],
)
@freeze_time(NOW)
def test_unusable_state_is_a_config_error_naming_the_stream(stream, state, problem):
    with MockedApi():  # no request may be made
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().build(), state=state, expect_error=True)

    error = output.errors[0].trace.error
    assert error.failure_type.value == "config_error"
    assert error.message.startswith(f"Stream {stream}: the saved state ") and problem in error.message
    assert "Reset this stream" in error.message
