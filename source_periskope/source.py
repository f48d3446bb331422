from __future__ import annotations

import logging
from typing import Any, Iterator, List, Mapping, MutableMapping, Optional

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
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope import cdk_hooks, page_sizes
from source_periskope.api import ApiProblem, KeyProblem
from source_periskope.check import check_connection
from source_periskope.config import DEFAULT_NUM_WORKERS, PHONES_KEY, try_normalize_config
from source_periskope.details import missing_report
from source_periskope.phone_numbers import phones_to_read
from source_periskope.read_plan import PLAN_KEY, plan_read, stream_modes
from source_periskope.stream_facts import load_manifest as load_packaged_manifest


def load_manifest(config: Optional[Mapping[str, Any]] = None) -> MutableMapping[str, Any]:
    manifest = load_packaged_manifest()
    if config and "request_timeout_seconds" in config:
        # The manifest schema takes the read timeout as a number only, so it cannot interpolate the config.
        manifest["definitions"]["requester"]["read_timeout_in_seconds"] = config["request_timeout_seconds"]
    return manifest


def full_refresh_streams(catalog: Optional[ConfiguredAirbyteCatalog]) -> List[str]:
    if not catalog:
        return []
    return [entry.stream.name for entry in catalog.streams if entry.sync_mode == SyncMode.full_refresh]


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
        cdk_hooks.attach(self)

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
        page_sizes.forget()
        try:
            phones = phones_to_read(self._config)
        except ApiProblem as problem:
            # Only a refused key or number is the user's to fix; an outage of /phones/all is retried by the platform.
            kind = FailureType.config_error if isinstance(problem, KeyProblem) else FailureType.transient_error
            raise AirbyteTracedException(message=str(problem), failure_type=kind) from None
        modes = stream_modes(catalog)
        states = ConnectorStateManager(state=state)
        saved = {name: states.get_stream_state(name, None) for name in modes}
        plan = plan_read({**self._config, PHONES_KEY: phones}, modes, saved, phones)
        cdk_hooks.set_read_config(self, {**self._config, PHONES_KEY: phones, PLAN_KEY: plan})
        missing_report()  # forget an earlier read's (tests read several times in one process)
        try:
            yield from super().read(logger, config, catalog, state)
        finally:
            for warning in missing_report():
                logger.warning(warning)
