"""What a hook does when the installed CDK is not the one it was checked against.

- A hook that changes what is synced (the state rule, the checkpoints, the read plan's starting states) refuses to
  run on an unsupported airbyte-cdk, or when a name it hooks is missing, with an error naming the installed and
  the supported versions: a silent fallback would re-read or skip records.
- A hook that only speeds things up logs one warning and leaves the CDK's own behaviour in place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Set

# No airbyte_cdk import at module level: process.py runs before the CDK's models may be imported.
logger = logging.getLogger("airbyte")

# The minor series of airbyte-cdk the hooks were checked against (pyproject.toml pins airbyte-cdk~=7.39.1).
SUPPORTED_CDK_SERIES = "7.39"
# serpyco-rs (the CDK's serialiser) is pinned the same way (~=1.23.0); only a speed-up reaches into it.
SUPPORTED_SERPYCO_SERIES = "1.23."


class HookUnavailable(Exception):
    """A name a hook needs is missing from the installed package."""


@dataclass(frozen=True)
class Hook:
    name: str
    changes_what_is_synced: bool


def installed_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "none"


def cdk_is_supported() -> bool:
    return installed_version("airbyte-cdk").startswith(SUPPORTED_CDK_SERIES + ".")


def require(owner: Any, attribute: str) -> Any:
    """owner.attribute, or HookUnavailable naming it."""
    if not hasattr(owner, attribute):
        raise HookUnavailable(f"{getattr(owner, '__name__', type(owner).__name__)}.{attribute}")
    return getattr(owner, attribute)


def unsupported_cdk(hook: Hook, missing: str = "") -> Exception:
    from airbyte_cdk.models import FailureType
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    detail = f" ({missing} is missing)" if missing else ""
    return AirbyteTracedException(
        message=(
            f"source-periskope cannot sync with airbyte-cdk {installed_version('airbyte-cdk')}: its '{hook.name}' rule "
            f"was checked against airbyte-cdk {SUPPORTED_CDK_SERIES}.x{detail}. The connector was built with the wrong "
            f"CDK, not misconfigured: install the supported version (pip install 'airbyte-cdk~={SUPPORTED_CDK_SERIES}.1', "
            "as the lock file pins it) or a source-periskope release made for yours."
        ),
        # The build's fault, not the user's: a config_error would send them to their settings.
        failure_type=FailureType.system_error,
    )


_warned: Set[str] = set()


def apply(hook: Hook, install: Callable[[], None]) -> bool:
    """Installs a hook under its policy; returns whether it is in place."""
    if hook.changes_what_is_synced and not cdk_is_supported():
        raise unsupported_cdk(hook)
    try:
        install()
        return True
    except HookUnavailable as missing:
        if hook.changes_what_is_synced:
            raise unsupported_cdk(hook, str(missing)) from None
        if hook.name not in _warned:
            _warned.add(hook.name)
            logger.warning(
                f"source-periskope runs without its '{hook.name}' speed-up: {missing} is missing from the installed "
                f"package (airbyte-cdk {installed_version('airbyte-cdk')}); the CDK's own behaviour is used."
            )
        return False
