"""Tests that cannot run on this machine: said on the terminal, skipped locally, a failure on CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration_tests.support import pyairbyte_venv
from integration_tests.support.paths import ON_CI


def say(config: pytest.Config, line: str) -> None:
    """A line on the terminal even while pytest captures output (build and install timings belong in CI's log)."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


def not_run(config: pytest.Config, tag: str, message: str) -> None:
    """Skips with a loud message; with CI=true an untested path is a failure instead."""
    say(config, f"\n[{tag}] " + message.replace("\n", f"\n[{tag}] "))
    if ON_CI:
        pytest.fail(message + "\nCI=true, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


def pyairbyte_python(config: pytest.Config, tag: str, what_is_untested: str, hint: str) -> Path:
    """The PyAirbyte venv's Python: reused when its stamp matches the requirements file, else (re)built."""
    try:
        return pyairbyte_venv.ensure(lambda line: say(config, f"\n[{tag}] {line}"))
    except pyairbyte_venv.VenvUnavailable as failure:
        not_run(config, tag, f"{tag} NOT RUN: the PyAirbyte venv {pyairbyte_venv.VENV}/ "
                             f"could not be built from {pyairbyte_venv.REQUIREMENTS} (log: {pyairbyte_venv.INSTALL_LOG}): "
                             f"{failure}\n{what_is_untested} is untested here. {hint}")
        raise  # not reached: not_run always raises
