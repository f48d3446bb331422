from __future__ import annotations

import logging
import pkgutil
from typing import Any, Iterator, List, Mapping, MutableMapping, Optional

import yaml
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    SyncMode,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.check import check_connection
from source_periskope.api import ApiProblem
from source_periskope.config import DEFAULT_NUM_WORKERS, PHONES_KEY, try_normalize_config
from source_periskope.cursors import use_per_phone_cursor
from source_periskope.history import skip_empty_history
from source_periskope.phones import phones_to_read
from source_periskope.state import use_closed_window_state


RECORDS_WAITING_TO_BE_WRITTEN = 2_000


class HidePageSizeReductionFalseAlarm(logging.Filter):
    """The CDK warns, at every start, that `page_size_reduction` has no REDUCE_PAGE_SIZE response filter: it cannot
    look inside a CustomErrorHandler. Ours has one (response_filters.limit_too_large; test_errors proves it works)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "defines `page_size_reduction` but no response filter" not in record.getMessage()


_factory_logger = logging.getLogger("airbyte.model_to_component_factory")
if not any(isinstance(f, HidePageSizeReductionFalseAlarm) for f in _factory_logger.filters):
    _factory_logger.addFilter(HidePageSizeReductionFalseAlarm())


def load_manifest(config: Optional[Mapping[str, Any]] = None) -> MutableMapping[str, Any]:
    manifest = yaml.safe_load(pkgutil.get_data("source_periskope", "manifest.yaml"))
    if config and "request_timeout_seconds" in config:
        # The manifest schema takes the read timeout as a number only, so it cannot interpolate the config.
        manifest["definitions"]["requester"]["read_timeout_in_seconds"] = config["request_timeout_seconds"]
    return manifest


def full_refresh_streams(catalog: Optional[ConfiguredAirbyteCatalog]) -> List[str]:
    if not catalog:
        return []
    return [entry.stream.name for entry in catalog.streams if entry.sync_mode == SyncMode.full_refresh]


def streams_without_state(catalog: ConfiguredAirbyteCatalog, state: Optional[List[AirbyteStateMessage]]) -> List[str]:
    """Streams that will read from their start: full refresh, or incremental with no saved state yet."""
    with_state = {
        message.stream.stream_descriptor.name
        for message in state or []
        if message.stream is not None and message.stream.stream_state
    }
    return [
        entry.stream.name
        for entry in catalog.streams
        if entry.sync_mode == SyncMode.full_refresh or entry.stream.name not in with_state
    ]


class SourcePeriskope(ConcurrentDeclarativeSource):
    """The declarative Periskope source, built from the packaged manifest with a normalised config.

    The spec comes from spec.json (the manifest has none), so `spec` prints exactly that file.
    """

    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        **kwargs: Any,
    ) -> None:
        normalized, self._config_problem = try_normalize_config(config, full_refresh_streams(catalog))
        if self._config_problem:
            # The manifest reads num_workers while the source is built: a bad value must still reach check,
            # discover and read as the config error that names it, not crash the construction.
            normalized = {**normalized, "num_workers": DEFAULT_NUM_WORKERS}
        super().__init__(
            catalog=catalog, config=normalized, state=state, source_config=load_manifest(normalized), **kwargs
        )
        use_closed_window_state(self._constructor)
        use_per_phone_cursor(self._constructor)
        # The CDK lets 10,000 records wait between its reader threads and the writer; a few pages' worth keep the
        # readers busy as well and keep memory flat (measured: about 40 MB less at the peak).
        self._concurrent_source._queue.maxsize = RECORDS_WAITING_TO_BE_WRITTEN

    def _raise_config_problem(self) -> None:
        if self._config_problem:
            raise AirbyteTracedException(
                message=f"Invalid configuration: {self._config_problem}",
                internal_message=self._config_problem,
                failure_type=FailureType.config_error,
            )

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        if self._config_problem:
            return AirbyteConnectionStatus(status=Status.FAILED, message=f"Invalid configuration: {self._config_problem}")
        succeeded, failure, warnings = check_connection(self._config)
        for warning in warnings:
            logger.warning(warning)
        if not succeeded:
            return AirbyteConnectionStatus(status=Status.FAILED, message=failure)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        self._raise_config_problem()
        return super().discover(logger, config)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        self._raise_config_problem()
        try:
            self._config[PHONES_KEY] = phones_to_read(self._config)
        except ApiProblem as problem:
            raise AirbyteTracedException(message=str(problem), failure_type=FailureType.config_error) from None
        skip_empty_history(self._config, streams_without_state(catalog, state))
        yield from super().read(logger, config, catalog, state)
