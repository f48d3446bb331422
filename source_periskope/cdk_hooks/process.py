"""Hooks on the process, installed by run.py before the CDK's models are imported (all speed-ups).

- deferred serializer schemas: serpyco-rs builds a JSON schema for every Serializer as it is created, reading
  each dataclass's attribute docstrings from source with `ast`; airbyte_cdk.models creates eight on import and the
  CDK never asks one for its schema (0.45 s of every command's start-up). Here a serializer builds its schema the
  first time get_json_schema() is called, and gives the same schema.
- record writer: the CDK serialises every message through its dataclass serializer, a tenth of a sync's CPU, and
  leaves top-level null fields out of records. A RECORD with only stream, data and emitted_at (all of ours) is
  written with orjson, nulls kept; any other message, or a record orjson cannot encode, goes through the CDK.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict

from source_periskope.cdk_hooks.policy import (
    SUPPORTED_SERPYCO_SERIES,
    Hook,
    HookUnavailable,
    apply,
    installed_version,
    require,
)

SERIALIZER_SCHEMAS = Hook("deferred serializer schemas", changes_what_is_synced=False)
RECORD_WRITER = Hook("record writer", changes_what_is_synced=False)


# Names reached through modules imported late (serpyco_rs._main, airbyte_cdk.entrypoint): (hook, module, attribute).
NAMES = [
    (SERIALIZER_SCHEMAS, "serpyco_rs._main", "Serializer"),
    (SERIALIZER_SCHEMAS, "serpyco_rs._main", "get_json_schema"),
    (RECORD_WRITER, "airbyte_cdk.entrypoint.AirbyteEntrypoint", "airbyte_message_to_string"),
]


def prepare_process() -> None:
    apply(SERIALIZER_SCHEMAS, defer_serializer_schemas)
    apply(RECORD_WRITER, use_fast_record_writer)


# -- deferred serializer schemas ------------------------------------------------------------------------------
def defer_serializer_schemas() -> None:
    serpyco = installed_version("serpyco-rs")
    if not serpyco.startswith(SUPPORTED_SERPYCO_SERIES):
        raise HookUnavailable(f"serpyco-rs {SUPPORTED_SERPYCO_SERIES}x (installed: {serpyco})")
    if "airbyte_cdk.models" in sys.modules:
        raise HookUnavailable("a chance to run before airbyte_cdk.models is imported")
    from serpyco_rs import _main

    serializer = require(_main, "Serializer")
    build_schema = require(_main, "get_json_schema")
    if getattr(serializer, "_periskope_deferred_schema", False):
        return

    def get_json_schema(self: Any) -> Dict[str, Any]:
        if getattr(self, "_schema", None) is None:
            self._schema = build_schema(self._type_info)
        return self._schema

    _main.get_json_schema = lambda type_info: None  # what Serializer.__init__ calls
    serializer.get_json_schema = get_json_schema
    serializer._periskope_deferred_schema = True


# -- record writer --------------------------------------------------------------------------------------------
def fast_record_writer(cdk_writer: Callable[[Any], str]) -> Callable[[Any], str]:
    import orjson
    from airbyte_cdk.models import Type

    def airbyte_message_to_string(message: Any) -> str:
        record = message.record
        if message.type == Type.RECORD and record.namespace is None and record.meta is None and record.file_reference is None:
            try:
                return orjson.dumps(
                    {"type": "RECORD", "record": {"stream": record.stream, "data": record.data, "emitted_at": record.emitted_at}}
                ).decode()
            except (TypeError, orjson.JSONEncodeError):
                pass
        return cdk_writer(message)

    airbyte_message_to_string.periskope_fast_writer = True  # type: ignore[attr-defined]
    return airbyte_message_to_string


def use_fast_record_writer() -> None:
    """The entrypoint calls AirbyteEntrypoint.airbyte_message_to_string for every message it prints."""
    from airbyte_cdk.entrypoint import AirbyteEntrypoint

    cdk_writer = require(AirbyteEntrypoint, "airbyte_message_to_string")
    if getattr(cdk_writer, "periskope_fast_writer", False):
        return
    AirbyteEntrypoint.airbyte_message_to_string = staticmethod(fast_record_writer(cdk_writer))  # type: ignore[method-assign]
