"""The lowest and the highest Python pyproject.toml declares, each in its own venv installed from the lock.

The whole suite runs on the default python3 (.venv). Here a venv per Python (.venv-py3.10, .venv-py3.13) is built
from requirements-dev.lock with hashes required (reused while the lock is unchanged) and runs in it every unit test,
the real CLI against the fake server (discover and read, both sync modes) and a few sync-simulation steps: what
differs between Pythons (typing, datetime parsing, the dependencies a universal lock resolves per Python) shows there.
A Python missing here is skipped with a message; on CI (CI=true) it is a failure.
"""

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional

import pytest

from integration_tests.support import lock_files
from integration_tests.support.not_run import not_run, say
from integration_tests.support.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

DECLARED = lock_files.pythons(lock_files.pyproject()["project"]["requires-python"])
LOWEST_AND_HIGHEST = [DECLARED[0], DECLARED[-1]]
# Every unit test; the real CLI's discover, full refresh and incremental syncs (records changed between and during
# them) against the fake; one seed of the simulation's steps (kills, faults, typed states). About 4 minutes a Python
# on 2 cores; the rest of the CLI tests (secrets in debug output) do not depend on the Python.
SUBSET = [
    "unit_tests",
    "integration_tests/test_cli_sync.py::test_full_refresh_emits_every_record_of_every_stream_exactly_once",
    "integration_tests/test_cli_sync.py::test_incremental_syncs_catch_new_and_changed_records_including_those_made_during_a_sync",
    "integration_tests/test_sync_simulation.py::test_every_record_and_every_promised_change_reaches_the_destination[20261128]",
]
LOCK = PROJECT_ROOT / "requirements-dev.lock"
TIMEOUT_SECONDS = 1200


def interpreter_of(version: str) -> Optional[str]:
    """python<version> from PATH, or from pyenv's versions (whose shim runs it only when that version is selected)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [shutil.which(f"python{version}"), *sorted(map(str, pyenv_root.glob(f"versions/{version}.*/bin/python{version}")))]
    for candidate in filter(None, candidates):
        try:
            answer = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2], sys.executable)"],
                                    capture_output=True, text=True, timeout=60)
        except OSError:
            continue
        found, _, executable = answer.stdout.strip().partition(" ")
        if answer.returncode == 0 and found == version:
            return executable
    return None


def venv_for(config: pytest.Config, version: str):
    """The venv's python, built with python<version> from the dev lock unless its stamp says it already is."""
    interpreter = interpreter_of(version)
    if interpreter is None:
        not_run(config, f"python{version}", f"PYTHON {version} NOT RUN: no python{version} on PATH or in pyenv. pyproject.toml "
                                             f"declares it ({lock_files.pyproject()['project']['requires-python']}), "
                                             f"so the connector is untested on it here. Install it (e.g. pyenv install "
                                             f"{version}) to run these tests.")
    venv = PROJECT_ROOT / f".venv-py{version}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed-from"
    wanted = f"{interpreter} {hashlib.sha256(LOCK.read_bytes()).hexdigest()}"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    started = time.monotonic()
    steps = [
        [interpreter, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(LOCK)],
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(PROJECT_ROOT)],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    stamp.write_text(wanted)
    say(config, f"\n[python{version}] {venv.name}/ installed from {LOCK.name} in {time.monotonic() - started:.0f} s")
    return python


@pytest.mark.parametrize("version", LOWEST_AND_HIGHEST)
def test_the_unit_tests_and_a_cli_sync_pass_on_the_lowest_and_highest_declared_python(version, request):
    python = venv_for(request.config, version)
    actual = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert actual == version

    started = time.monotonic()
    run = subprocess.run([str(python), "-m", "pytest", *SUBSET, "-q", "-p", "no:cacheprovider", "--durations=0",
                          "--durations-min=1000"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=TIMEOUT_SECONDS)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "(no output)"
    say(request.config, f"\n[python{version}] {' '.join(SUBSET)}: {summary} ({time.monotonic() - started:.0f} s)")
    assert run.returncode == 0, f"on Python {version}:\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
