"""The contract with airbyte-cdk and serpyco-rs internals (source_periskope/cdk_hooks/).

- every name a hook reaches exists in the installed packages: a CDK release that renames one fails here, before a
  user's sync does (and so does every private name the tests themselves reach, listed in TEST_REACHES);
- on a real read, every hook is reached: the state rule, the checkpoints, the read plan, each speed-up;
- each speed-up gives the CDK's own output;
- a speed-up whose name is missing logs one warning, and the read gives the same records and state;
- a sync rule whose name is missing, or an airbyte-cdk outside the supported series, refuses to run, naming the
  installed and the supported versions.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, AirbyteRecordMessage, Level, SyncMode, Type
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.state_builder import StateBuilder
from airbyte_cdk.utils.slice_hasher import SliceHasher
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from freezegun import freeze_time

from source_periskope import SourcePeriskope
from source_periskope.cdk_hooks import SUPPORTED_CDK_SERIES, factory, hooked_names, policy, process, speedups, sync_rules
from source_periskope.cdk_hooks.process import fast_record_writer
from source_periskope.cdk_hooks.speedups import RECORDS_WAITING_TO_BE_WRITTEN, PerPhoneCursor, SliceWithCachedHash
from source_periskope.normalize import from_iso
from source_periskope.state import SettledStateConverter
from unit_tests.mock_server.config import OTHER_PHONE, PHONE, ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import example_records, page, records
from unit_tests.mock_server.utils import MockedApi

# Private names the tests reach (to observe what no public API shows); checked like the hooks' own.
TEST_REACHES = [
    (HttpMocker, "_validate_all_matchers_called"),  # unit_tests/mock_server/utils.py: MockedApi
    ("source._concurrent_source", "_threadpool"),  # unit_tests/test_config.py: num_workers reaches the threads
    ("source._concurrent_source._threadpool", "_threadpool"),
    ("source._concurrent_source._threadpool._threadpool", "_max_workers"),
]
NOW = "2026-11-15T12:00:00Z"
BUILT = {"cursor": ConcurrentCursor, "converter": CustomFormatConcurrentStreamStateConverter}


def built_source() -> SourcePeriskope:
    return SourcePeriskope(config=ConfigBuilder().build())


def resolve(owner):
    """The object an owner names: itself, an attribute path of a built source, a module, or a module's class."""
    if not isinstance(owner, str):
        return owner
    if owner.startswith("source"):
        target = built_source()
        for attribute in owner.split(".")[1:]:
            target = getattr(target, attribute)
        return target
    try:
        return importlib.import_module(owner)
    except ImportError:
        module, _, name = owner.rpartition(".")
        return getattr(importlib.import_module(module), name)


# -- the names exist ------------------------------------------------------------------------------------------------
def test_the_installed_airbyte_cdk_is_the_supported_series():
    assert policy.cdk_is_supported(), (policy.installed_version("airbyte-cdk"), SUPPORTED_CDK_SERIES)
    assert policy.installed_version("serpyco-rs").startswith(policy.SUPPORTED_SERPYCO_SERIES)


@pytest.mark.parametrize("hook, owner, attribute", hooked_names(), ids=lambda v: getattr(v, "name", str(v)))
def test_every_name_a_hook_reaches_exists(hook, owner, attribute):
    if owner in BUILT:  # an attribute the class sets on itself when it is built
        assert f"self.{attribute} =" in inspect.getsource(BUILT[owner].__init__), (hook.name, owner, attribute)
        return
    assert hasattr(resolve(owner), attribute), (hook.name, owner, attribute)


@pytest.mark.parametrize("builder", [factory.DATETIME_CURSOR_BUILDER, factory.PER_PARTITION_CURSOR_BUILDER])
def test_the_cursor_builders_take_the_state_their_cursor_starts_from(builder):
    """factory.after_building hands each cursor's starting state (its floor, state.saved_floor) to the hooks."""
    assert "stream_state" in inspect.signature(getattr(ModelToComponentFactory, builder)).parameters


@pytest.mark.parametrize("owner, attribute", TEST_REACHES, ids=str)
def test_every_private_name_the_tests_reach_exists(owner, attribute):
    assert hasattr(resolve(owner), attribute)


# -- every hook is reached on a real read -----------------------------------------------------------------------------
def window(phone, start, end, offset=0):
    return PeriskopeRequestBuilder.for_stream("messages", phone).with_window(start, end).with_page(offset, 100).build()


def probe(phone, start, end):
    return PeriskopeRequestBuilder.for_stream("messages", phone).as_probe(start, end).build()


WINDOWS = [("2026-09-30T23:59:59Z", "2026-10-15T23:59:59Z"), ("2026-10-15T23:59:59Z", "2026-10-30T23:59:59Z"),
           ("2026-10-30T23:59:59Z", "2026-11-14T23:59:59Z"), ("2026-11-14T23:59:59Z", "2026-11-15T12:00:01Z")]


def read_two_numbers(source=None):
    """Messages of two numbers: the first has nothing new since its state (one probe, no window); the second reads
    four 15-day windows of 30 records each, its newest record a minute before the sync starts."""
    config = ConfigBuilder().with_start_date("2026-09-01").with_window_days(15).with_additional_phone_numbers([OTHER_PHONE]).build()
    state = {"states": [{"partition": {"phone": PHONE}, "cursor": {"timestamp": "2026-11-10T08:00:00Z"}},
                        {"partition": {"phone": OTHER_PHONE}, "cursor": {"timestamp": "2026-10-01T00:00:00Z"}}]}
    catalog = CatalogBuilder().with_stream("messages", SyncMode.incremental).build()
    state_messages = StateBuilder().with_stream_state("messages", state).build()
    with MockedApi() as http:
        http.get(probe(PHONE, "2026-11-10T07:59:59Z", "2026-11-15T12:00:01Z"),
                 page("messages", records("messages", 1, newest="2026-11-10T08:00:00+00:00")))
        http.get(probe(OTHER_PHONE, "2026-09-30T23:59:59Z", "2026-11-15T12:00:01Z"),
                 page("messages", records("messages", 1, newest="2026-11-15T11:59:00+00:00")))
        for number, (start, end) in enumerate(WINDOWS):
            newest = "2026-11-15T11:59:00+00:00" if number == len(WINDOWS) - 1 else f"{start[:10]}T12:00:00+00:00"
            batch = records("messages", 30, newest=newest, org_phone=f"{OTHER_PHONE}@c.us")
            for record in batch:
                record["message_id"] += f"-w{number}"
            http.get(window(OTHER_PHONE, start, end), page("messages", batch))
        source = source or SourcePeriskope(catalog=catalog, config=config, state=state_messages)
        output = read(source, config, catalog, state_messages)
    assert not output.errors, output.get_formatted_error_message()
    return source, output


def final_states(output):
    return {s["partition"]["phone"]: s["cursor"]["timestamp"] for s in output.most_recent_state.stream_state.__dict__["states"]}


@freeze_time(NOW)
def test_every_hook_is_reached_on_a_real_read(monkeypatch):
    hashes = []
    original = SliceHasher.hash.__func__
    monkeypatch.setattr(SliceHasher, "hash", classmethod(lambda cls, *a, **k: hashes.append(1) or original(cls, *a, **k)))
    source, output = read_two_numbers()

    # the read plan reached the streams: the first number was not read at all (its window is not even mocked)
    assert final_states(output)[PHONE] == "2026-11-10T08:00:00Z"
    # the settled state: the newest record is a minute old, the state stops five minutes before the sync started
    assert final_states(output)[OTHER_PHONE] == "2026-11-15T11:55:00Z"
    # a checkpoint per window, not one per ten minutes
    assert len(output.state_messages) >= len(WINDOWS)
    # the per-phone cursor hashes each window's slice once, not each record's
    assert len(output.records) == 120 and len(hashes) < 40
    # the short record queue
    assert source._concurrent_source._queue.maxsize == RECORDS_WAITING_TO_BE_WRITTEN


def test_the_process_hooks_are_reached_before_the_cdk_models_are_imported():
    code = (
        "from source_periskope.cdk_hooks import prepare_process\n"
        "prepare_process()\n"
        "from airbyte_cdk.entrypoint import AirbyteEntrypoint\n"
        "from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, AirbyteRecordMessage, Type\n"
        "assert AirbyteMessageSerializer._schema is None  # deferred\n"
        "message = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream='s', data={'a': None}, emitted_at=1))\n"
        "print(AirbyteEntrypoint.airbyte_message_to_string(message))\n"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(printed.strip().splitlines()[-1])["record"]["data"] == {"a": None}  # the fast writer keeps nulls


def test_importing_the_package_changes_nothing_in_the_process():
    code = (
        "import logging, sys\n"
        "import source_periskope\n"
        "assert 'airbyte_cdk' not in sys.modules and 'serpyco_rs' not in sys.modules, 'the CDK was imported'\n"
        "assert not logging.getLogger('airbyte.model_to_component_factory').filters\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- each speed-up gives the CDK's output -----------------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["messages", "chats", "tickets", "reactions", "notifications"])
def test_the_fast_record_writer_writes_what_the_cdk_writes_plus_its_nulls(stream):
    write = fast_record_writer(AirbyteEntrypoint.airbyte_message_to_string)
    for data in example_records(stream):
        message = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=1764000000000))
        fast, cdk = json.loads(write(message)), json.loads(AirbyteEntrypoint.airbyte_message_to_string(message))
        assert fast["record"]["data"] == data  # nulls kept
        without_nulls = {key: value for key, value in data.items() if value is not None}
        assert {**fast, "record": {**fast["record"], "data": without_nulls}} == cdk


def test_other_messages_go_through_the_cdks_writer():
    write = fast_record_writer(AirbyteEntrypoint.airbyte_message_to_string)
    log = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="hello"))
    assert write(log) == AirbyteEntrypoint.airbyte_message_to_string(log)


FORMATS = ["%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ"]


@pytest.mark.parametrize("value", [
    "2025-01-24T05:11:10+00:00", "2025-01-24T05:11:10.9+00:00", "2025-01-24T05:11:10.691753+00:00",
    "2025-01-24T05:11:10.123+00:00", "2025-01-24T05:11:10Z",
])
def test_the_settled_converter_reads_and_writes_cursor_values_as_the_cdks(value):
    fast = SettledStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ", input_datetime_formats=list(FORMATS))
    cdk = CustomFormatConcurrentStreamStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ", input_datetime_formats=list(FORMATS))
    assert fast.parse_timestamp(value) == cdk.parse_timestamp(value)
    for moment in (datetime(2025, 1, 24, 5, 11, 10, 900000, tzinfo=timezone.utc), datetime(2025, 1, 24, tzinfo=timezone.utc),
                   from_iso("2025-01-24T10:41:10.25+05:30")):
        assert fast.output_format(moment) == cdk.output_format(moment)


def test_a_slice_with_a_cached_hash_hashes_and_compares_as_the_cdks(monkeypatch):
    router_slice = StreamSlice(partition={"phone": PHONE}, cursor_slice={}, extra_fields={"x": 1})
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

    cursor = PerPhoneCursor.__new__(PerPhoneCursor)  # only the key method is exercised
    cursor._partition_serializer = PerPartitionKeySerializer()
    cursor._remembered_keys = {}
    partitions = [{"phone": PHONE}, {"phone": OTHER_PHONE}, {"b": 1, "a": {"z": [1, 2]}}]
    for _ in range(3):
        for partition in partitions + [dict(p) for p in partitions]:
            assert cursor._to_partition_key(partition) == PerPartitionKeySerializer.to_partition_key(partition)


def test_deferred_serializer_schemas_are_the_schemas_serpyco_builds():
    code = (
        "import json, sys\n"
        "if sys.argv[1] == 'deferred':\n"
        "    from source_periskope.cdk_hooks import prepare_process\n"
        "    prepare_process()\n"
        "from airbyte_cdk.models import airbyte_protocol_serializers as serializers\n"
        "names = sorted(name for name in dir(serializers) if name.endswith('Serializer') and name != 'Serializer')\n"
        "print(json.dumps({name: getattr(serializers, name).get_json_schema() for name in names}, sort_keys=True))\n"
    )

    def schemas(mode):
        completed = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True)
        return json.loads(completed.stdout.strip().splitlines()[-1])

    eager, deferred = schemas("eager"), schemas("deferred")
    assert len(eager) >= 8 and all(eager.values())
    assert deferred == eager


# -- fallbacks and refusals ----------------------------------------------------------------------------------------------
def missing(monkeypatch, module, attribute):
    """Makes `attribute` look missing to the hooks of `module`, as if a CDK release had renamed it."""
    real = policy.require

    def require(owner, name):
        if name == attribute:
            raise policy.HookUnavailable(f"{getattr(owner, '__name__', type(owner).__name__)}.{name}")
        return real(owner, name)

    monkeypatch.setattr(module, "require", require)
    monkeypatch.setattr(policy, "_warned", set())


@pytest.mark.parametrize("hook, attribute", [
    (speedups.PER_PHONE_CURSOR, "_to_partition_key"),
    (speedups.RECORD_QUEUE, "_queue"),
])
@freeze_time(NOW)
def test_a_speed_up_whose_name_is_missing_warns_once_and_the_read_is_the_same(hook, attribute, monkeypatch, caplog):
    _, with_hook = read_two_numbers()
    missing(monkeypatch, speedups, attribute)
    _, without = read_two_numbers()

    assert caplog.text.count(f"runs without its '{hook.name}' speed-up") == 1
    assert sorted(json.dumps(m.record.data, sort_keys=True) for m in without.records) == sorted(
        json.dumps(m.record.data, sort_keys=True) for m in with_hook.records)
    assert final_states(without) == final_states(with_hook)


@pytest.mark.parametrize("hook, attribute, cdk_behaviour", [
    (process.SERIALIZER_SCHEMAS, "get_json_schema", "assert AirbyteMessageSerializer._schema is not None"),
    (process.RECORD_WRITER, "airbyte_message_to_string",
     "assert not getattr(AirbyteEntrypoint.airbyte_message_to_string, 'periskope_fast_writer', False)"),
])
def test_a_process_speed_up_whose_name_is_missing_warns_and_leaves_the_cdk_as_it_is(hook, attribute, cdk_behaviour):
    code = (
        "from source_periskope.cdk_hooks import policy, process\n"
        "real = policy.require\n"
        "def require(owner, name):\n"
        f"    if name == {attribute!r}:\n"
        "        raise policy.HookUnavailable(name)\n"
        "    return real(owner, name)\n"
        "process.require = require\n"
        "process.prepare_process()\n"
        "from airbyte_cdk.entrypoint import AirbyteEntrypoint\n"
        "from airbyte_cdk.models import AirbyteMessageSerializer\n"
        f"{cdk_behaviour}\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert (completed.stdout + completed.stderr).count(f"runs without its '{hook.name}' speed-up") == 1


@pytest.mark.parametrize("hook, attribute", [
    (sync_rules.SETTLED_STATE, "_get_latest_complete_time"),
    (sync_rules.CHECKPOINT_EACH_WINDOW, "_throttle_state_message"),
    (sync_rules.READ_CONFIG, "_config"),
])
def test_a_sync_rule_whose_name_is_missing_refuses_to_run(hook, attribute, monkeypatch):
    missing(monkeypatch, sync_rules, attribute)
    with pytest.raises(AirbyteTracedException) as refusal:
        built_source()
    message = refusal.value.message
    assert f"'{hook.name}'" in message and attribute in message
    assert policy.installed_version("airbyte-cdk") in message and f"{SUPPORTED_CDK_SERIES}.x" in message


def test_an_unsupported_airbyte_cdk_is_refused_naming_both_versions(monkeypatch):
    real = policy.installed_version
    monkeypatch.setattr(policy, "installed_version", lambda name: "7.40.0" if name == "airbyte-cdk" else real(name))
    with pytest.raises(AirbyteTracedException) as refusal:
        built_source()
    assert "airbyte-cdk 7.40.0" in refusal.value.message and f"{SUPPORTED_CDK_SERIES}.x" in refusal.value.message
