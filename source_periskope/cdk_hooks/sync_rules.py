"""Hooks that change what is synced: they refuse to run on an airbyte-cdk they were not checked against.

- settled state: every datetime cursor saves its state through SettledStateConverter (state.py): the newest
  record read, no later than the gap-free windows' end or the sync's start less the settle margin, never earlier
  than the state the cursor started from. The CDK builds its converter inside the cursor builders (one per number
  for the per-number cursors), so the converter of each cursor they return gets the class and that cursor's floor.
- a checkpoint per window: the CDK's per-partition cursor emits its first state at once, then at most one per
  600 s; a sync stopped after a few minutes would re-read every window since. Ours emits after each closed window.
- the read's config: the read plan (read_plan.py) reaches the streams through the config they are built from, which
  the CDK builds lazily in read() from the source's `_config`.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)

from source_periskope.cdk_hooks.factory import (
    DATETIME_CURSOR_BUILDER,
    PER_PARTITION_CURSOR_BUILDER,
    after_building,
    factory_of,
)
from source_periskope.cdk_hooks.policy import Hook, apply, require, unsupported_cdk
from source_periskope.read_plan import settled_before
from source_periskope.server_clock import clock_for
from source_periskope.state import SettledStateConverter, saved_floor

SETTLED_STATE = Hook("settled state", changes_what_is_synced=True)
CHECKPOINT_EACH_WINDOW = Hook("a checkpoint per window", changes_what_is_synced=True)
READ_CONFIG = Hook("the read plan reaches the streams", changes_what_is_synced=True)

# Every name these hooks reach: (hook, owner, attribute); "source" is a built SourcePeriskope, "cursor" and
# "converter" what the factory builds. unit_tests/test_cdk_hooks.py checks each exists.
NAMES = [
    (SETTLED_STATE, CustomFormatConcurrentStreamStateConverter, "_get_latest_complete_time"),
    (SETTLED_STATE, CustomFormatConcurrentStreamStateConverter, "merge_intervals"),
    (SETTLED_STATE, CustomFormatConcurrentStreamStateConverter, "MOST_RECENT_RECORD_KEY"),
    (SETTLED_STATE, "converter", "_datetime_format"),  # SettledStateConverter.output_format
    (SETTLED_STATE, "cursor", "_connector_state_converter"),
    (SETTLED_STATE, "source", "_constructor"),
    (CHECKPOINT_EACH_WINDOW, ConcurrentPerPartitionCursor, "_throttle_state_message"),
    (READ_CONFIG, "source", "_config"),
]


def install_sync_rules(source: Any) -> None:
    factory = factory_of(source)
    apply(SETTLED_STATE, lambda: _use_settled_state(factory))
    apply(CHECKPOINT_EACH_WINDOW, lambda: _checkpoint_each_window(factory))
    apply(READ_CONFIG, lambda: require(source, "_config"))


def set_read_config(source: Any, config: Mapping[str, Any]) -> None:
    """The config the streams of this read are built from (CDS.read builds them from `_config`)."""
    require(source, "_config")
    source._config = config


def _use_settled_state(factory: Any) -> None:
    require(CustomFormatConcurrentStreamStateConverter, "_get_latest_complete_time")

    def settle(cursor: Any, config: Mapping[str, Any], stream_state: Mapping[str, Any]) -> None:
        converter = require(cursor, "_connector_state_converter")
        if type(converter) is not CustomFormatConcurrentStreamStateConverter:
            raise unsupported_cdk(SETTLED_STATE, f"a {CustomFormatConcurrentStreamStateConverter.__name__} (got {type(converter).__name__})")
        converter.__class__ = SettledStateConverter
        converter.settled_before = settled_before(config)
        converter.floor = saved_floor(stream_state)  # each number's cursor has its own converter
        converter.server_clock = clock_for(config.get("base_url", ""))

    for builder in (DATETIME_CURSOR_BUILDER, PER_PARTITION_CURSOR_BUILDER):
        after_building(factory, builder, settle)


def _checkpoint_each_window(factory: Any) -> None:
    require(ConcurrentPerPartitionCursor, "_throttle_state_message")

    def never_throttle(cursor: Any, config: Mapping[str, Any], stream_state: Mapping[str, Any]) -> None:
        if isinstance(cursor, ConcurrentPerPartitionCursor):
            cursor._throttle_state_message = time.time  # the time to record as the last emission: always now

    after_building(factory, PER_PARTITION_CURSOR_BUILDER, never_throttle)
