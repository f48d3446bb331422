"""The PyAirbyte venv, .venv-pyairbyte/ at the project root (git-ignored), for integration_tests/test_pyairbyte.py
and `make duckdb`.

PyAirbyte (PyPI `airbyte`) has a large dependency tree of its own with exact pins, so it never goes into the
connector's venv. The venv is built from integration_tests/pyairbyte-requirements.txt: created when missing,
rebuilt from scratch when that file or the Python version changed (the stamp .venv-pyairbyte/.installed holds their
hash), reused otherwise. Install log: .tmp/pyairbyte/install.log; a lock file beside it keeps two processes from
building it together. tools/pyairbyte_read.py is the script run with the venv's Python (by path: it imports
nothing from this project).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from integration_tests.support.paths import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "integration_tests" / "pyairbyte-requirements.txt"
READ_SCRIPT = PROJECT_ROOT / "tools" / "pyairbyte_read.py"
VENV = PROJECT_ROOT / ".venv-pyairbyte"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed"
WORK = PROJECT_ROOT / ".tmp" / "pyairbyte"
INSTALL_LOG = WORK / "install.log"
LOCK = WORK / "venv.lock"
INSTALL_TIMEOUT_SECONDS = 20 * 60


class VenvUnavailable(Exception):
    """The venv could not be built (no package index reachable, ...): the message says which step and shows the log."""


def clean_env() -> dict:
    """This environment without PYTHONPATH and PYTHONHOME, which would leak this venv's packages into the other."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def stamp() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"python {sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def is_current() -> bool:
    return STAMP.exists() and STAMP.read_text() == stamp() and VENV_PYTHON.exists()


def ensure(say: Callable[[str], None]) -> Path:
    """The venv's Python: reused when its stamp matches the requirements file, else (re)built. `say` gets a line
    for each step (reused, building, built); raises VenvUnavailable when the build fails."""
    WORK.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:  # two runs at once must not build the same venv together
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_current():
            say(f"reusing {VENV.name}/ (requirements unchanged)")
        else:
            build(say)
    return VENV_PYTHON


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def build(say: Callable[[str], None]) -> None:
    """Builds VENV from scratch into a clean folder; the stamp is written last, so a half-built venv is rebuilt.
    Call it holding the lock (ensure() does)."""
    shutil.rmtree(VENV, ignore_errors=True)
    started = time.monotonic()
    say(f"building {VENV.name}/ from {REQUIREMENTS.name} (log: {INSTALL_LOG})")
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
    ]
    with open(INSTALL_LOG, "w") as log:
        for step in steps:
            log.write(f"$ {' '.join(step)}\n")
            log.flush()
            try:
                returncode = subprocess.run(
                    step, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    timeout=INSTALL_TIMEOUT_SECONDS, env=clean_env(),
                ).returncode
            except subprocess.TimeoutExpired:
                returncode = None
            if returncode != 0:
                what = f"timed out after {INSTALL_TIMEOUT_SECONDS}s" if returncode is None else f"exited {returncode}"
                log.flush()
                shutil.rmtree(VENV, ignore_errors=True)
                raise VenvUnavailable(f"`{' '.join(step[-3:])}` {what}; last lines of the log:\n{_tail(INSTALL_LOG)}\n")
    STAMP.write_text(stamp())
    say(f"{VENV.name}/ installed in {time.monotonic() - started:.1f}s")
