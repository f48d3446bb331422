"""The facts of each stream, read from the manifest (its one written place): endpoint, records keys, keys, cursor.

Python code that needs them (the read plan, the probes, the config's stream list) asks here instead of keeping a
copy; unit_tests/test_stream_facts.py checks that the manifest's streams and these facts agree.
"""

from __future__ import annotations

import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Mapping, MutableMapping, Tuple

import yaml

PHONE_STREAM_REF = "#/definitions/phone_stream"


@dataclass(frozen=True)
class StreamFacts:
    name: str
    api_path: str  # relative to base_url, e.g. "/chats/messages"
    records_keys: Tuple[str, ...]  # where the records sit in the list envelope; () for a bare array
    primary_key: Tuple[str, ...]
    cursor_field: str
    phone_scoped: bool  # read once per WhatsApp number, with x-phone, in time windows


def load_manifest() -> MutableMapping[str, Any]:
    return yaml.safe_load(pkgutil.get_data("source_periskope", "manifest.yaml"))


def _facts(definition: Mapping[str, Any]) -> StreamFacts:
    parameters = definition["$parameters"]
    return StreamFacts(
        name=parameters["name"],
        api_path=parameters["api_path"],
        records_keys=tuple(parameters["records_keys"]),
        primary_key=tuple(definition["primary_key"]),
        cursor_field=parameters["cursor_key"],
        phone_scoped=definition.get("$ref") == PHONE_STREAM_REF,
    )


@lru_cache(maxsize=None)
def all_streams() -> Dict[str, StreamFacts]:
    """Every stream, in the order of the manifest's `streams` list."""
    manifest = load_manifest()
    definitions = manifest["definitions"]["streams"]
    listed = [entry["$ref"].rsplit("/", 1)[-1] for entry in manifest["streams"]]
    return {name: _facts(definitions[name]) for name in listed}


def stream(name: str) -> StreamFacts:
    return all_streams()[name]


def stream_names() -> Tuple[str, ...]:
    return tuple(all_streams())


def phone_streams() -> Tuple[str, ...]:
    return tuple(name for name, facts in all_streams().items() if facts.phone_scoped)
