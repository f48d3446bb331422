"""How the CLI writes RECORD messages: straight to JSON with orjson.

The CDK serialises every message through its dataclass serializer, which was a tenth of a sync's CPU and leaves
top-level null fields out of the record. A record with only `stream`, `data` and `emitted_at` (all ours are) is
written directly, nulls kept; any other message, or a record orjson cannot encode, goes through the CDK.
"""

from __future__ import annotations

from typing import Callable

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessage, Type


def fast_record_writer(cdk_writer: Callable[[AirbyteMessage], str]) -> Callable[[AirbyteMessage], str]:
    def airbyte_message_to_string(message: AirbyteMessage) -> str:
        record = message.record
        if message.type == Type.RECORD and record.namespace is None and record.meta is None and record.file_reference is None:
            try:
                return orjson.dumps(
                    {"type": "RECORD", "record": {"stream": record.stream, "data": record.data, "emitted_at": record.emitted_at}}
                ).decode()
            except (TypeError, orjson.JSONEncodeError):
                pass
        return cdk_writer(message)

    return airbyte_message_to_string


def use_fast_record_writer() -> None:
    """For this process: the entrypoint calls AirbyteEntrypoint.airbyte_message_to_string for every message."""
    cdk_writer = AirbyteEntrypoint.airbyte_message_to_string
    AirbyteEntrypoint.airbyte_message_to_string = staticmethod(fast_record_writer(cdk_writer))  # type: ignore[method-assign]
