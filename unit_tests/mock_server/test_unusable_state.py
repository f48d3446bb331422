"""Saved state that would crash a sync or silently skip records is refused with an error naming the stream; a state
typed by hand in a form the connector reads as a date reaches the CDK in the one form it parses."""

import pytest
from airbyte_cdk.models import SyncMode

from freezegun import freeze_time

from unit_tests.mock_server.config import OTHER_PHONE, PHONE, ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import CURSOR_FIELD, ID_FIELD, a_record, page, records
from unit_tests.mock_server.utils import MockedApi, final_state, read_stream, record_data

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


# -- states typed by hand in the Airbyte UI: every form the connector reads as a date reaches the CDK in one form --
TYPED_FORMS = ["2026-11-01", "2026-11-01T00:00:00", "2026-11-01 00:00:00+00", "2026-11-01T05:30:00+05:30",
               "2026-11-01T00:00:00.250Z"]
ONE_FORM = "2026-11-01T00:00:00Z"
PHONE_WINDOW = ("2026-10-31T23:59:59Z", "2026-11-15T12:00:01Z")  # from the typed state less one second


def org_page(stream):
    request = PeriskopeRequestBuilder.for_stream(stream)
    return (request if stream == "phones" else request.with_page(0, 100)).build()


@pytest.mark.parametrize("form", TYPED_FORMS)
@pytest.mark.parametrize("stream", ["tickets", "contacts", "phones"])
@freeze_time(NOW)
def test_a_typed_org_stream_state_is_read_as_the_date_it_names(stream, form):
    cursor = CURSOR_FIELD[stream]
    newer, older = (a_record(stream, **{ID_FIELD[stream]: name, cursor: moment})
                    for name, moment in (("newer", "2026-11-10T10:00:00+00:00"), ("older", "2026-10-20T10:00:00+00:00")))
    with MockedApi() as http:
        http.get(org_page(stream), page(stream, [newer, older]))
        output = read_stream(stream, SyncMode.incremental, ConfigBuilder().build(), state={cursor: form})

    assert [r[ID_FIELD[stream]] for r in record_data(output)] == ["newer"]
    assert final_state(output) == {cursor: "2026-11-10T10:00:00Z"}


def phone_states(*entries):
    return {"states": [{"partition": {"phone": phone}, "cursor": {"timestamp": value}} for phone, value in entries]}


@pytest.mark.parametrize("form", TYPED_FORMS)
@freeze_time(NOW)
def test_a_removed_numbers_typed_state_is_kept_in_the_one_form(form):
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("messages").as_probe(*PHONE_WINDOW).build(),
                 page("messages", records("messages", 1, newest="2026-11-10T10:00:00+00:00")))
        http.get(PeriskopeRequestBuilder.for_stream("messages").with_window(*PHONE_WINDOW).with_page(0, 100).build(),
                 page("messages", records("messages", 2, newest="2026-11-10T10:00:00+00:00")))
        output = read_stream("messages", SyncMode.incremental, ConfigBuilder().build(),
                             state=phone_states((PHONE, ONE_FORM), (OTHER_PHONE, form)))

    assert len(output.records) == 2
    states = {s["partition"]["phone"]: s["cursor"]["timestamp"] for s in final_state(output)["states"]}
    assert states == {PHONE: "2026-11-10T10:00:00Z", OTHER_PHONE: ONE_FORM}


@pytest.mark.parametrize("form", TYPED_FORMS)
@pytest.mark.parametrize("state", ["per number", "single number"])
@freeze_time(NOW)
def test_a_configured_numbers_typed_state_is_read_as_the_date_it_names(form, state):
    typed = phone_states((PHONE, form)) if state == "per number" else {"timestamp": form}
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("messages").as_probe(*PHONE_WINDOW).build(),
                 page("messages", records("messages", 1, newest="2026-11-10T10:00:00+00:00")))
        http.get(PeriskopeRequestBuilder.for_stream("messages").with_window(*PHONE_WINDOW).with_page(0, 100).build(),
                 page("messages", records("messages", 2, newest="2026-11-10T10:00:00+00:00")))
        output = read_stream("messages", SyncMode.incremental, ConfigBuilder().build(), state=typed)

    assert final_state(output)["states"] == [{"partition": {"phone": PHONE}, "cursor": {"timestamp": "2026-11-10T10:00:00Z"}}]


@pytest.mark.parametrize("form", TYPED_FORMS)
@freeze_time(NOW)
def test_a_typed_state_of_a_number_with_nothing_new_is_kept_in_the_one_form(form):
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("messages").as_probe(*PHONE_WINDOW).build(), page("messages", []))
        output = read_stream("messages", SyncMode.incremental, ConfigBuilder().build(), state=phone_states((PHONE, form)))

    assert final_state(output)["states"] == [{"partition": {"phone": PHONE}, "cursor": {"timestamp": ONE_FORM}}]
