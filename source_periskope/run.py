import gc
import sys
import traceback
from datetime import datetime, timezone
from typing import List

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import AirbyteErrorTraceMessage, AirbyteMessage, AirbyteMessageSerializer, AirbyteTraceMessage, TraceType, Type

from source_periskope.output import use_fast_record_writer
from source_periskope.source import SourcePeriskope


# Four reader threads and the writer share the GIL. At Python's default (5 ms) they traded it 25,000-50,000 times
# per 100k records and the sync spent 10-15% more CPU doing so; at 50 ms a reader that has its page still
# waits far less than a request takes (measured with and without 100 ms of latency: faster both ways).
GIL_SWITCH_INTERVAL_SECONDS = 0.05


def _source(args: List[str]) -> SourcePeriskope:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourcePeriskope(
        catalog=SourcePeriskope.read_catalog(catalog_path) if catalog_path else None,
        config=SourcePeriskope.read_config(config_path) if config_path else None,
        state=SourcePeriskope.read_state(state_path) if state_path else None,
    )


def run() -> None:
    args = sys.argv[1:]
    # A sync allocates millions of short-lived dicts and few cycles: collecting less often is measurably faster.
    gc.set_threshold(100_000, 50, 1000)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    use_fast_record_writer()
    try:
        source = _source(args)
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
