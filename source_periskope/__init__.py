"""source-periskope: the Periskope source for Airbyte.

Importing the package changes nothing in the process; `SourcePeriskope` (which imports the CDK) loads on first use.
"""

from typing import Any

__all__ = ["SourcePeriskope"]


def __getattr__(name: str) -> Any:
    if name == "SourcePeriskope":
        from source_periskope.source import SourcePeriskope

        return SourcePeriskope
    raise AttributeError(f"module 'source_periskope' has no attribute {name!r}")
