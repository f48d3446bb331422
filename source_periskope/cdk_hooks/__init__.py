"""Every reach into airbyte-cdk and serpyco-rs internals, in one place (README, "Moving to a new CDK").

Three entry points:
- `prepare_process()`: run.py, before anything imports the CDK's models (process.py: speed-ups only);
- `attach(source)`: SourcePeriskope, when it is built (sync_rules.py: what is synced; speedups.py);
- `set_read_config(source, config)`: SourcePeriskope.read, to hand the read plan to the streams it builds.

Each hook states its policy (policy.py): one that changes what is synced refuses to run on an airbyte-cdk it was
not checked against, naming the installed and supported versions; one that only speeds things up logs one warning
and leaves the CDK's behaviour. unit_tests/test_cdk_hooks.py proves each hook is reached on a real read and each
fallback works when a hooked name is missing.
"""

from __future__ import annotations

from typing import Any, List, Tuple

from source_periskope.cdk_hooks.policy import SUPPORTED_CDK_SERIES, SUPPORTED_SERPYCO_SERIES
from source_periskope.cdk_hooks.process import prepare_process

__all__ = ["SUPPORTED_CDK_SERIES", "SUPPORTED_SERPYCO_SERIES", "attach", "hooked_names", "prepare_process", "set_read_config"]


def hooked_names() -> List[Tuple[Any, Any, str]]:
    """(hook, owner, attribute) for every name a hook reaches (see NAMES in each module)."""
    from source_periskope.cdk_hooks import process, speedups, sync_rules

    return [*process.NAMES, *sync_rules.NAMES, *speedups.NAMES]


def attach(source: Any) -> None:
    from source_periskope.cdk_hooks.speedups import install_speedups
    from source_periskope.cdk_hooks.sync_rules import install_sync_rules

    install_sync_rules(source)
    install_speedups(source)


def set_read_config(source: Any, config: Any) -> None:
    from source_periskope.cdk_hooks.sync_rules import set_read_config as set_config

    set_config(source, config)
