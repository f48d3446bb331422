"""Hooks on one source that do not change what is synced; without them the CDK's own code runs.

- per-phone cursor caches: for every record, ConcurrentPerPartitionCursor.observe turns the record's phone
  partition into a JSON key, and the window's cursor looks the record's slice up in a dict, which hashes the slice
  (a JSON dump and a sha256). Both inputs are the same objects for every record of a window: on 100k messages the
  two dumps were a third of the sync's CPU. PerPhoneCursor computes each once; the keys and hashes are the CDK's.
- record queue: the CDK lets 10,000 records wait between its reader threads and the writer; a few pages' worth
  keep the readers as busy and keep memory flat (about 40 MB less at the peak).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Tuple

from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.types import StreamSlice

from source_periskope.cdk_hooks.factory import PER_PARTITION_CURSOR_BUILDER, after_building, factory_of
from source_periskope.cdk_hooks.policy import Hook, apply, require

PER_PHONE_CURSOR = Hook("per-phone cursor caches", changes_what_is_synced=False)
RECORD_QUEUE = Hook("short record queue", changes_what_is_synced=False)

NAMES = [
    (PER_PHONE_CURSOR, ConcurrentPerPartitionCursor, "_to_partition_key"),
    (RECORD_QUEUE, "source", "_concurrent_source"),
    (RECORD_QUEUE, "source._concurrent_source", "_queue"),
]

RECORDS_WAITING_TO_BE_WRITTEN = 2_000
# Partition objects whose keys are remembered: one per phone; a bound keeps a very long sync from growing it.
_MAX_REMEMBERED_PARTITIONS = 1_000


def install_speedups(source: Any) -> None:
    apply(PER_PHONE_CURSOR, lambda: _use_per_phone_cursor(factory_of(source)))
    apply(RECORD_QUEUE, lambda: _shorten_record_queue(source))


class SliceWithCachedHash(StreamSlice):
    """A StreamSlice (immutable, so its hash cannot change) that computes its hash once."""

    @classmethod
    def of(cls, stream_slice: StreamSlice) -> "SliceWithCachedHash":
        return cls(partition=stream_slice.partition, cursor_slice=stream_slice.cursor_slice, extra_fields=stream_slice.extra_fields)

    def __hash__(self) -> int:
        cached = self.__dict__.get("_cached_hash")
        if cached is None:
            cached = self.__dict__["_cached_hash"] = super().__hash__()
        return cached


class PerPhoneCursor(ConcurrentPerPartitionCursor):
    """ConcurrentPerPartitionCursor whose slices hash once and whose partition keys are computed once per phone."""

    _remembered_keys: Dict[int, Tuple[Mapping[str, Any], str]]

    def stream_slices(self) -> Iterable[StreamSlice]:
        for stream_slice in super().stream_slices():
            yield SliceWithCachedHash.of(stream_slice)

    def _to_partition_key(self, partition: Mapping[str, Any]) -> str:
        remembered = self._remembered_keys
        entry = remembered.get(id(partition))
        if entry is not None and entry[0] is partition:  # the object itself is kept, so its id is not reused
            return entry[1]
        key = super()._to_partition_key(partition)
        if len(remembered) >= _MAX_REMEMBERED_PARTITIONS:
            remembered.clear()
        remembered[id(partition)] = (partition, key)
        return key


def _use_per_phone_cursor(factory: Any) -> None:
    require(ConcurrentPerPartitionCursor, "_to_partition_key")
    require(StreamSlice, "__hash__")

    def per_phone(cursor: Any, config: Mapping[str, Any], stream_state: Mapping[str, Any]) -> None:
        if type(cursor) is ConcurrentPerPartitionCursor:
            cursor.__class__ = PerPhoneCursor
            cursor._remembered_keys = {}

    after_building(factory, PER_PARTITION_CURSOR_BUILDER, per_phone)


def _shorten_record_queue(source: Any) -> None:
    queue = require(require(source, "_concurrent_source"), "_queue")
    require(queue, "maxsize")
    queue.maxsize = RECORDS_WAITING_TO_BE_WRITTEN
