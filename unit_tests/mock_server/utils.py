from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.models.outcome import ExpectedOutcome
from airbyte_cdk.test.state_builder import StateBuilder

from source_periskope import SourcePeriskope


def read_stream(
    stream: str,
    sync_mode: SyncMode,
    config: Mapping[str, Any],
    state: Optional[Dict[str, Any]] = None,
    expect_error: bool = False,
) -> EntrypointOutput:
    catalog = CatalogBuilder().with_stream(stream, sync_mode).build()
    state_messages: Optional[List[AirbyteStateMessage]] = (
        StateBuilder().with_stream_state(stream, state).build() if state is not None else None
    )
    source = SourcePeriskope(catalog=catalog, config=config, state=state_messages)
    outcome = {True: ExpectedOutcome.EXPECT_EXCEPTION, False: ExpectedOutcome.EXPECT_SUCCESS, None: ExpectedOutcome.ALLOW_ANY}[expect_error]
    return read(source, config, catalog, state_messages, expected_outcome=outcome)


def record_data(output: EntrypointOutput) -> List[Dict[str, Any]]:
    return [message.record.data for message in output.records]


def final_state(output: EntrypointOutput) -> Dict[str, Any]:
    return output.most_recent_state.stream_state.__dict__
