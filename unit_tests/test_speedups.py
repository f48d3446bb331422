"""Each speed-up gives the same output as the CDK piece it replaces (README, "Performance")."""

import json
from datetime import datetime, timezone

import pytest
from airbyte_cdk.models import SyncMode
from freezegun import freeze_time
import requests
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, AirbyteRecordMessage, Level, Type
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)

from source_periskope.components import ErrorHandlerThatTrustsSuccess
from source_periskope.cdk_hooks.process import fast_record_writer
from source_periskope.state import SettledStateConverter
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
    fast = SettledStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ", input_datetime_formats=list(FORMATS))
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
    from source_periskope.cdk_hooks.speedups import RECORDS_WAITING_TO_BE_WRITTEN

    source = SourcePeriskope(config={"api_key": "k", "phone_number": "919876543210"})
    assert source._concurrent_source._queue.maxsize == RECORDS_WAITING_TO_BE_WRITTEN


def test_slice_with_cached_hash_hashes_and_compares_as_the_cdks_slice(monkeypatch):
    from airbyte_cdk.sources.types import StreamSlice
    from airbyte_cdk.utils.slice_hasher import SliceHasher

    from source_periskope.cdk_hooks.speedups import SliceWithCachedHash

    router_slice = StreamSlice(partition={"phone": "919876543210"}, cursor_slice={}, extra_fields={"x": 1})
    cdk = StreamSlice(partition=router_slice, cursor_slice={"start_time": "2026-10-01T00:00:00Z", "end_time": "2026-10-31T00:00:00Z"},
                      extra_fields=router_slice.extra_fields)  # as the CDK's per-partition cursor builds it
    fast = SliceWithCachedHash.of(cdk)
    assert hash(fast) == hash(cdk) and fast == cdk and cdk == fast
    assert (fast.partition, fast.cursor_slice, fast.extra_fields, dict(fast)) == (cdk.partition, cdk.cursor_slice, cdk.extra_fields, dict(cdk))

    calls = []
    original = SliceHasher.hash.__func__
    monkeypatch.setattr(SliceHasher, "hash", classmethod(lambda cls, *a, **k: calls.append(1) or original(cls, *a, **k)))
    for _ in range(100):
        {fast: 1}.get(fast)
    assert calls == []  # computed once, above


def test_per_phone_partition_keys_are_the_cdks():
    from airbyte_cdk.sources.streams.checkpoint.per_partition_key_serializer import PerPartitionKeySerializer

    from source_periskope.cdk_hooks.speedups import PerPhoneCursor

    cursor = PerPhoneCursor.__new__(PerPhoneCursor)  # only the key method is exercised
    cursor._partition_serializer = PerPartitionKeySerializer()
    cursor._remembered_keys = {}
    partitions = [{"phone": "919876543210"}, {"phone": "918527184400"}, {"b": 1, "a": {"z": [1, 2]}}]
    for _ in range(3):
        for partition in partitions + [dict(p) for p in partitions]:
            assert cursor._to_partition_key(partition) == PerPartitionKeySerializer.to_partition_key(partition)


@pytest.mark.parametrize("sync_mode", [SyncMode.incremental, SyncMode.full_refresh])
@freeze_time("2026-11-15T12:00:00Z")
def test_per_phone_cursor_emits_the_records_and_state_of_the_cdks_cursor(sync_mode, monkeypatch):
    """Two numbers, two windows each, a window of two pages: same records and state, far fewer slice hashes."""
    from airbyte_cdk.utils.slice_hasher import SliceHasher

    import source_periskope.cdk_hooks.speedups
    from unit_tests.mock_server.config import OTHER_PHONE, PHONE, ConfigBuilder
    from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
    from unit_tests.mock_server.response_builder import page, records
    from unit_tests.mock_server.utils import MockedApi, final_state, read_stream

    windows = [("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z"), ("2026-10-31T00:00:00Z", "2026-11-15T12:00:01Z")]
    if sync_mode == SyncMode.full_refresh:
        windows = [("2009-01-01T00:00:00Z", "2018-12-30T00:00:00Z"), ("2018-12-30T00:00:00Z", "2026-11-15T12:00:01Z")]
    config = ConfigBuilder().with_additional_phone_numbers([OTHER_PHONE]).with_window_days(3650 if sync_mode == SyncMode.full_refresh else 30).build()

    def read_messages():
        with MockedApi() as http:
            for phone in (PHONE, OTHER_PHONE):
                def request(window, offset=0):
                    return PeriskopeRequestBuilder.for_stream("messages", phone).with_window(*window).with_page(offset, 100).build()

                first = records("messages", 100, newest="2026-11-10T10:00:00+00:00", org_phone=f"{phone}@c.us")
                more = [dict(r, message_id=r["message_id"] + "-b") for r in records("messages", 30, newest="2026-11-01T00:00:00+00:00")]
                http.get(request(windows[0]), page("messages", records("messages", 5, newest="2016-10-20T10:00:00+00:00")))
                http.get(request(windows[1]), page("messages", first))
                http.get(request(windows[1], 100), page("messages", more, offset=100))
            output = read_stream("messages", sync_mode, config)
        # Windows and numbers are read concurrently, so records come in no fixed order.
        return sorted(json.dumps(m.record.data, sort_keys=True) for m in output.records), final_state(output)

    hashes = []
    original = SliceHasher.hash.__func__
    monkeypatch.setattr(SliceHasher, "hash", classmethod(lambda cls, *a, **k: hashes.append(1) or original(cls, *a, **k)))
    fast = read_messages()
    fast_hashes = len(hashes)
    monkeypatch.setattr(source_periskope.cdk_hooks.speedups, "_use_per_phone_cursor", lambda factory: None)
    hashes.clear()
    cdk = read_messages()

    assert len(fast[0]) == 2 * 135
    assert fast == cdk
    assert fast_hashes < 50 < len(hashes)  # once per window, not per record


SCHEMAS_OF_THE_CDK_SERIALIZERS = """
import json, sys
if sys.argv[1] == "deferred":
    from source_periskope.cdk_hooks import prepare_process
    prepare_process()  # defers schema building before the CDK's serializers are created
from airbyte_cdk.models import airbyte_protocol_serializers as serializers
names = sorted(name for name in dir(serializers) if name.endswith("Serializer") and name != "Serializer")
print(json.dumps({name: getattr(serializers, name).get_json_schema() for name in names}, sort_keys=True))
"""


def test_deferred_serializer_schemas_are_the_schemas_serpyco_builds():
    import subprocess
    import sys

    def schemas(mode):
        completed = subprocess.run([sys.executable, "-c", SCHEMAS_OF_THE_CDK_SERIALIZERS, mode], capture_output=True, text=True, check=True)
        return json.loads(completed.stdout.strip().splitlines()[-1])

    eager, deferred = schemas("eager"), schemas("deferred")
    assert len(eager) >= 8 and all(eager.values())
    assert deferred == eager


def test_the_cdks_serializers_have_not_built_their_schemas_at_import():
    import subprocess
    import sys

    code = (
        "from source_periskope.cdk_hooks import prepare_process\n"
        "prepare_process()\n"
        "from airbyte_cdk.models import AirbyteMessageSerializer, AirbyteMessage, Type, AirbyteLogMessage, Level\n"
        "assert AirbyteMessageSerializer._schema is None\n"
        "message = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message='hi'))\n"
        "assert AirbyteMessageSerializer.load(AirbyteMessageSerializer.dump(message)) == message\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
