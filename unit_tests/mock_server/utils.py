from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.models.outcome import ExpectedOutcome
from airbyte_cdk.test.state_builder import StateBuilder

from source_periskope import SourcePeriskope


class MockedApi(HttpMocker):
    """HttpMocker as a context manager that, like its decorator form, fails when a mocked request was never made."""

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        if exc_type is None:
            self._validate_all_matchers_called()  # guarded by unit_tests/test_cdk_hooks.py


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
    output = read(source, config, catalog, state_messages, expected_outcome=outcome)
    if expect_error is False:  # the CDK's EXPECT_SUCCESS only prints an error; a test must fail on it
        assert not output.errors, output.get_formatted_error_message()
    elif expect_error is True:
        assert output.errors, "the read was expected to fail"
    return output


def record_data(output: EntrypointOutput) -> List[Dict[str, Any]]:
    return [message.record.data for message in output.records]


def final_state(output: EntrypointOutput) -> Dict[str, Any]:
    return output.most_recent_state.stream_state.__dict__
