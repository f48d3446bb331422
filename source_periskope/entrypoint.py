"""Builds the source from the command line's files and runs the command (spec, check, discover, read)."""

from __future__ import annotations

import os
import sys
import traceback
from datetime import datetime, timezone
from typing import Any, Callable, List, Optional

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import AirbyteErrorTraceMessage, AirbyteMessage, AirbyteMessageSerializer, AirbyteTraceMessage, TraceType, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.source import SourcePeriskope

IMAGE_USER = "uid 1000 (user airbyte)"


def _read_file(kind: str, path: Optional[str], read: Callable[[str], Any]) -> Any:
    if not path:
        return None
    try:
        return read(path)
    except PermissionError:
        raise PermissionError(
            f"the {kind} file {path} cannot be read by this process ({_who_am_i()}). The image runs as {IMAGE_USER}: "
            f"make the file readable by it, e.g. `chmod a+r {path}` (and `chmod a+x` on its folders), or "
            "`chown 1000 <file>` on the host before mounting it."
        ) from None


def _who_am_i() -> str:
    return f"uid {os.getuid()}" if hasattr(os, "getuid") else "this user"


def build_source(args: List[str]) -> SourcePeriskope:
    return SourcePeriskope(
        catalog=_read_file("catalog", AirbyteEntrypoint.extract_catalog(args), SourcePeriskope.read_catalog),
        config=_read_file("config", AirbyteEntrypoint.extract_config(args), SourcePeriskope.read_config),
        state=_read_file("state", AirbyteEntrypoint.extract_state(args), SourcePeriskope.read_state),
    )


def launch_source(args: List[str]) -> None:
    try:
        source = build_source(args)
    except AirbyteTracedException as error:  # e.g. an unsupported CDK: its own message and failure type
        print(orjson.dumps(AirbyteMessageSerializer.dump(error.as_airbyte_message())).decode())
        sys.exit(1)
    except Exception as error:  # a broken config, catalog or state file must still answer as a TRACE message
        trace = AirbyteMessage(
            type=Type.TRACE,
            trace=AirbyteTraceMessage(
                type=TraceType.ERROR,
                emitted_at=datetime.now(timezone.utc).timestamp() * 1000,
                error=AirbyteErrorTraceMessage(
                    message=f"Could not start source-periskope: {error}",
                    stack_trace=traceback.format_exc(),
                ),
            ),
        )
        print(orjson.dumps(AirbyteMessageSerializer.dump(trace)).decode())
        sys.exit(1)
    launch(source, args)
