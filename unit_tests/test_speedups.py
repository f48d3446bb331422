"""Each speed-up gives the same output as the CDK piece it replaces (README, "Performance")."""

import json
from datetime import datetime, timezone

import pytest
import requests
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, AirbyteRecordMessage, Level, Type
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)

from source_periskope.components import ErrorHandlerThatTrustsSuccess
from source_periskope.output import fast_record_writer
from source_periskope.state import ClosedWindowStateConverter
from unit_tests.mock_server.response_builder import example_records

FORMATS = ["%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ"]


def without_nulls(data):
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("stream", ["messages", "chats", "tickets", "reactions", "notifications"])
def test_fast_record_writer_writes_what_the_cdk_writes_plus_its_nulls(stream):
    write = fast_record_writer(AirbyteEntrypoint.airbyte_message_to_string)
    for data in example_records(stream):
        message = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=1764000000000))
        fast, cdk = json.loads(write(message)), json.loads(AirbyteEntrypoint.airbyte_message_to_string(message))
        assert fast["record"]["data"] == data  # nulls kept
        assert {**fast, "record": {**fast["record"], "data": without_nulls(fast["record"]["data"])}} == cdk


def test_other_messages_go_through_the_cdk():
    write = fast_record_writer(AirbyteEntrypoint.airbyte_message_to_string)
    log = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="hello"))
    assert write(log) == AirbyteEntrypoint.airbyte_message_to_string(log)


@pytest.mark.parametrize("value", [
    "2025-01-24T05:11:10+00:00", "2025-01-24T05:11:10.9+00:00", "2025-01-24T05:11:10.691753+00:00",
    "2025-01-24T05:11:10.123+00:00", "2025-01-24T05:11:10Z",
])
def test_fast_cursor_parsing_equals_the_cdks(value):
    fast = ClosedWindowStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ", input_datetime_formats=list(FORMATS))
    cdk = CustomFormatConcurrentStreamStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ", input_datetime_formats=list(FORMATS))
    assert fast.parse_timestamp(value) == cdk.parse_timestamp(value)
    for moment in (datetime(2025, 1, 24, 5, 11, 10, 900000, tzinfo=timezone.utc), datetime(2025, 1, 24, tzinfo=timezone.utc),
                   datetime.fromisoformat("2025-01-24T10:41:10.25+05:30")):
        assert fast.output_format(moment) == cdk.output_format(moment)


@pytest.mark.parametrize("status", [200, 201, 204])
def test_trusting_success_resolves_2xx_as_the_default_handler_does(status):
    response = requests.Response()
    response.status_code = status
    response._content = b'{"code": "VALIDATION_ERROR", "fields": {"limit": {}}}'
    default = DefaultErrorHandler(config={}, parameters={}).interpret_response(response)
    assert ErrorHandlerThatTrustsSuccess(config={}, parameters={}).interpret_response(response) == default


@pytest.mark.parametrize("value", [
    "2025-01-24T05:11:10+00:00", "2025-01-24T05:11:10.9+00:00", "2025-01-24T05:11:10.691753+00:00",
    "2024-05-13 11:19:34+00", "2025-01-24T05:11:10Z", "2025-01-24T10:41:10.25+05:30", "2025-01-24", "2025-01-24T05:11:10.+00:00",
])
def test_canonical_timestamps_skip_the_regex_with_the_same_result(value):
    from source_periskope import normalize

    expected = None
    match = normalize._TIMESTAMP.match(value)
    if match:
        original = normalize._is_canonical
        try:
            normalize._is_canonical = lambda text: False
            expected = normalize.normalize_timestamp(value)
        finally:
            normalize._is_canonical = original
        assert normalize.normalize_timestamp(value) == expected


def test_few_records_wait_between_reader_threads_and_the_writer():
    """Keeps peak memory flat (README, Performance); fails loudly if a CDK upgrade moves the queue."""
    from source_periskope import SourcePeriskope
    from source_periskope.source import RECORDS_WAITING_TO_BE_WRITTEN

    source = SourcePeriskope(config={"api_key": "k", "phone_number": "919876543210"})
    assert source._concurrent_source._queue.maxsize == RECORDS_WAITING_TO_BE_WRITTEN
