"""How incremental state advances and how older state shapes are read.

The CDK saves a windowed stream's state as the newest record it saw, or the start of the range when it saw
none. For a quiet phone (no notes, say) that never moves, so every sync would walk every window since
start_date again. Our windows are closed (the last one ends when the sync starts), so everything before the
end of the windows read without a gap has been read: the state may move there. It stops SETTLE_MARGIN short,
so a record the API indexes a little after its timestamp is still read by the next sync.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from datetime import timedelta
from typing import Any, Callable, List, Mapping, MutableMapping

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)
from airbyte_cdk.sources.types import Config

from source_periskope.config import PHONES_KEY

SETTLE_MARGIN = timedelta(minutes=5)


class ClosedWindowStateConverter(CustomFormatConcurrentStreamStateConverter):
    """State = the later of the newest record seen and the end of the gap-free windows, less SETTLE_MARGIN."""

    def _get_latest_complete_time(self, slices: List[MutableMapping[str, Any]]) -> Any:
        first = self.merge_intervals(slices)[0]
        start, end = first[self.START_KEY], first[self.END_KEY]
        newest_record = first.get(self.MOST_RECENT_RECORD_KEY)
        read_through = max(start, end - SETTLE_MARGIN)
        return max(newest_record, read_through) if newest_record else read_through


def use_closed_window_state(factory: ModelToComponentFactory) -> None:
    """Makes every datetime cursor the factory builds (per phone ones included) save state as above.

    The factory builds the converter inside one method, so that method is wrapped on this factory instance only.
    """
    build_cursor: Callable[..., ConcurrentCursor] = factory.create_concurrent_cursor_from_datetime_based_cursor

    def build_cursor_with_closed_window_state(*args: Any, **kwargs: Any) -> ConcurrentCursor:
        cursor = build_cursor(*args, **kwargs)
        converter = cursor._connector_state_converter
        if type(converter) is CustomFormatConcurrentStreamStateConverter:
            converter.__class__ = ClosedWindowStateConverter
        return cursor

    factory.create_concurrent_cursor_from_datetime_based_cursor = build_cursor_with_closed_window_state  # type: ignore[method-assign]


@dataclass
class PerPhoneStateMigration(StateMigration):
    """Reads older state shapes of the phone-scoped streams as per-phone state.

    - A plain {"<cursor>": value} (a single-number connection's state) belongs to the primary phone_number.
    - The CDK also saves a global {"state": {...}} beside the per-phone states and would start a newly added
      number from it; dropping it makes a new number backfill from start_date, as users expect.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return bool(stream_state) and ("states" not in stream_state or "state" in stream_state)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        if "states" in stream_state:
            return {key: value for key, value in stream_state.items() if key != "state"}
        primary_phone = self.config[PHONES_KEY][0]
        return {
            "states": [{"partition": {"phone": primary_phone}, "cursor": dict(stream_state)}],
            "use_global_cursor": False,
        }
