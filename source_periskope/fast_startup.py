"""Start-up work the CDK's imports do and never use, deferred (README, "Performance").

serpyco-rs builds a JSON schema for every Serializer as it is created, reading each dataclass's attribute
docstrings from its source code with `ast`; `airbyte_cdk.models` creates eight on import and the CDK
never asks one for its schema. That was about 0.45 s of every command's start-up (py-spy: get_attributes_doc).
Here a serializer builds its schema the first time `get_json_schema()` is called, and gives the same schema.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any, Dict


# Checked against serpyco-rs 1.x, where a Serializer keeps its schema only to answer get_json_schema().
_CHECKED_MAJOR_VERSION = "1."


def defer_serializer_schemas() -> None:
    """Must run before airbyte_cdk.models is imported; does nothing for a serpyco-rs it was not checked against."""
    try:
        if not metadata.version("serpyco-rs").startswith(_CHECKED_MAJOR_VERSION):
            return
        from serpyco_rs import _main
    except (ImportError, metadata.PackageNotFoundError):
        return
    serializer = getattr(_main, "Serializer", None)
    build_schema = getattr(_main, "get_json_schema", None)
    if serializer is None or build_schema is None or getattr(serializer, "_periskope_deferred_schema", False):
        return

    def get_json_schema(self: Any) -> Dict[str, Any]:
        if getattr(self, "_schema", None) is None:
            self._schema = build_schema(self._type_info)
        return self._schema

    _main.get_json_schema = lambda type_info: None  # what Serializer.__init__ calls
    serializer.get_json_schema = get_json_schema
    serializer._periskope_deferred_schema = True
