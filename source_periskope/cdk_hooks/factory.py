"""Wrapping the cursor builders of one source's component factory (ModelToComponentFactory), not the class."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from source_periskope.cdk_hooks.policy import require

DATETIME_CURSOR_BUILDER = "create_concurrent_cursor_from_datetime_based_cursor"
PER_PARTITION_CURSOR_BUILDER = "create_concurrent_cursor_from_perpartition_cursor"


def after_building(factory: Any, builder: str, adjust: Callable[[Any, Mapping[str, Any], Mapping[str, Any]], None]) -> None:
    """Calls adjust(cursor, config, stream_state) on every cursor `factory.<builder>` returns, on this factory
    instance only; stream_state is the state the cursor was built from (after the manifest's state migrations)."""
    build = require(factory, builder)

    def build_and_adjust(*args: Any, **kwargs: Any) -> Any:
        cursor = build(*args, **kwargs)
        adjust(cursor, kwargs.get("config") or {}, kwargs.get("stream_state") or {})
        return cursor

    setattr(factory, builder, build_and_adjust)


def factory_of(source: Any) -> Any:
    return require(source, "_constructor")
